// gosrv ADDR [tls]: 404+close for /not_here.html, 401 (body unread) for
// /protected/, /big streams 300 KB slowly, 200 otherwise.
package main

import (
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/not_here.html":
			w.Header().Set("Connection", "close")
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/protected/"):
			w.Header().Set("WWW-Authenticate", `Basic realm="lab"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		case r.URL.Path == "/big":
			b := make([]byte, 10000)
			for i := 0; i < 30; i++ {
				w.Write(b)
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		default:
			w.Write([]byte("<html><body>lab</body></html>\n"))
		}
	})
	if len(os.Args) > 2 {
		http.ListenAndServeTLS(os.Args[1], "/tmp/rc2/cert.pem", "/tmp/rc2/key.pem", nil)
	} else {
		http.ListenAndServe(os.Args[1], nil)
	}
}
