# python3 http.server over TLS: python3 pytls.py PORT
import http.server, ssl, sys, functools
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory='/tmp/rc2/www')
s = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('/tmp/rc2/cert.pem', '/tmp/rc2/key.pem')
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
