// A tiny Go net/http server for the lingerlab real-server captures:
// 404 + Connection: close for /not_here.html, 401 (body unread) for
// /protected/, 200 otherwise.
package main

import (
	"net/http"
	"os"
	"strings"
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
		default:
			w.Write([]byte("<html><body>lab</body></html>\n"))
		}
	})
	http.ListenAndServe(os.Args[1], nil)
}
