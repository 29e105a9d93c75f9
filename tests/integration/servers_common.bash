# servers_common.bash - configuration files for the real servers the
# integration tests start (serve_stop.sh, target_common.bash). Source it
# after tests/lib.sh.
#
#   apache_conf FILE LISTEN DOCROOT [DIRECTIVE...]
#       an Apache httpd configuration in FILE: the event MPM, everything
#       it writes (pid file, error log, runtime dir, mutex) under
#       $TEST_TMP, `Listen LISTEN`, workers as www-data serving DOCROOT,
#       then each DIRECTIVE on a line of its own

apache_conf() {
	local file=$1 listen=$2 root=$3 mods=/usr/lib/apache2/modules
	shift 3
	{
		cat <<CONF
ServerRoot $TEST_TMP
ServerName lab
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
Listen $listen
PidFile $TEST_TMP/apache2.pid
ErrorLog $TEST_TMP/apache2.error.log
DefaultRuntimeDir $TEST_TMP
Mutex file:$TEST_TMP default
User www-data
Group www-data
DocumentRoot $root
CONF
		[ $# -gt 0 ] && printf '%s\n' "$@"
		cat <<CONF
<Directory $root>
  Require all granted
</Directory>
CONF
	} >"$file"
}
