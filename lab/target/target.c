/* placeholder: the reference target server lands with the lab issue. */
#include <stdio.h>
int main(void) { fprintf(stderr, "lingerlab-target: not built yet\n"); return 2; }
