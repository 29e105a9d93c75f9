// A tiny Node http server for the lingerlab real-server captures:
// 404 + Connection: close for /not_here.html, 401 (body unread) for
// /protected/, 200 otherwise.  node nodesrv.js PORT [ADDRESS]
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/not_here.html') {
    res.writeHead(404, { 'Content-Type': 'text/plain', 'Connection': 'close' });
    res.end('not here\n');
  } else if (req.url.startsWith('/protected/')) {
    res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Basic realm="lab"' });
    res.end('unauthorized\n');
  } else {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<html><body>lab</body></html>\n');
  }
}).listen(+process.argv[2], process.argv[3] || '127.0.0.1');
