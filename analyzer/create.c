/*
 * create.c - an analyzer made and freed (az_new, az_free; see analyzer.h):
 * its configuration with the defaults filled in, the store's pools,
 * tables and lists empty, and everything given back at the end.
 */
#include "analyzer/analyzer.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/conn.h"
#include "analyzer/flowtab.h"
#include "analyzer/fw2.h"
#include "analyzer/store.h"

struct az *az_new(const struct az_config *cfg)
{
	struct az *az = calloc(1, sizeof(*az));

	if (!az)
		return NULL;
	if (cfg)
		az->cfg = *cfg;
	az->cfg.server_ports = NULL;
	az->cfg.n_server_ports = 0;
	if (cfg && cfg->n_server_ports > 0 && cfg->server_ports) {
		az->server_ports = malloc(cfg->n_server_ports * sizeof(uint16_t));
		if (!az->server_ports)
			goto err;
		memcpy(az->server_ports, cfg->server_ports,
		       cfg->n_server_ports * sizeof(uint16_t));
		az->cfg.server_ports = az->server_ports;
		az->cfg.n_server_ports = cfg->n_server_ports;
	}
	if (!az->cfg.timeline_head)
		az->cfg.timeline_head = 100;
	if (!az->cfg.timeline_tail)
		az->cfg.timeline_tail = 100;
	if (!az->cfg.max_retained)
		az->cfg.max_retained = 10000;
	if (!az->cfg.max_series)
		az->cfg.max_series = (size_t)1 << 20;
	az->mem_limit = az->cfg.max_memory ? az->cfg.max_memory : AZ_DEFAULT_MAX_MEMORY;
	az->tlsd.keys = az->cfg.tls_keys;
	store_pool_init(&az->conns, sizeof(struct conn), offsetof(struct conn, next_free));
	if (ft_init(&az->ft, 1024, store_conn_key, az) < 0)
		goto err;
	if (ft_init(&az->fs, 1024, store_seal_key, az) < 0) {
		ft_free(&az->ft);
		goto err;
	}
	store_pool_init(&az->exts, sizeof(struct conn_ext), offsetof(struct conn_ext, next_free));
	store_pool_init(&az->rps, sizeof(struct rstpair), offsetof(struct rstpair, next_free));
	store_pool_init(&az->embs, sizeof(struct embryo), offsetof(struct embryo, next));
	az->embs.max = COMPACT_POOL_MAX;
	store_pool_init(&az->parks, sizeof(struct parked), offsetof(struct parked, hash));
	az->parks.max = COMPACT_POOL_MAX;
	az->fw2list.head = az->fw2list.tail = NONE;
	az->fw2list.deadline = INFINITY;
	az->embryo.head = az->embryo.tail = NONE;
	az->embryo.deadline = INFINITY;
	az->cembryo.head = az->cembryo.tail = NONE;
	az->cembryo.deadline = INFINITY;
	az->tombs.head = az->tombs.tail = NONE;
	az->tombs.deadline = INFINITY;
	az->seals.esize = sizeof(struct seal);
	az->seals.deadline = INFINITY;
	az->next_id = 1;
	az->last = NONE;
	az->retained_sorted = true;
	fw2_init(&az->fw2[AZ_SERVER], az->cfg.max_series);
	fw2_init(&az->fw2[AZ_CLIENT], az->cfg.max_series);
	return az;
err:
	free(az->server_ports);
	az->server_ports = NULL;
	free(az);
	return NULL;
}

void az_free(struct az *az)
{
	size_t i;

	if (!az)
		return;
	for (i = 0; i < store_pool_capacity(&az->exts); i++) {
		struct conn_ext *x = pool_at(&az->exts, (uint32_t)i);
		free(x->tl_head);
		x->tl_head = NULL;
		free(x->tl_tail);
		x->tl_tail = NULL;
		tlsdec_free(&az->tlsd, x->dec);
		x->dec = NULL;
	}
	tlsdec_ctx_free(&az->tlsd);
	store_pool_free(&az->exts);
	store_pool_free(&az->rps);
	store_pool_free(&az->embs);
	store_park_free(az);
	store_pool_free(&az->conns);
	store_ring_free(&az->seals);
	for (i = 0; i < az->n_retained; i++) {
		/* head and tail share one allocation, owned through tl_head */
		free((void *)az->retained[i].tl_head);
		az->retained[i].tl_head = NULL;
	}
	free(az->retained);
	az->retained = NULL;
	free(az->findings);
	az->findings = NULL;
	fw2_free(&az->fw2[0]);
	fw2_free(&az->fw2[1]);
	ft_free(&az->ft);
	ft_free(&az->fs);
	free(az->server_ports);
	az->server_ports = NULL;
	free(az);
}
