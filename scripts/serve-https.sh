#!/usr/bin/env bash
# Serves a directory over https on 127.0.0.1 (any free port) with a throwaway
# self-signed certificate, in the background, for the install tests and the release
# dry run: install.sh then runs unchanged (curl --proto '=https'), trusting the
# certificate through CURL_CA_BUNDLE. No test-only switch lets plain http through.
#
#   base=$(bash scripts/serve-https.sh DIR STATE_DIR)
#   CURL_CA_BUNDLE=STATE_DIR/cert.pem curl "$base/file"   # DIR/file
#   kill "$(cat STATE_DIR/pid)"                           # when done
#
# Prints the base URL (https://127.0.0.1:PORT) on stdout once the server answers;
# leaves cert.pem, key.pem, pid, port and server.log in STATE_DIR.
# Needs: openssl, python3, curl.
set -euo pipefail

[[ $# -eq 2 ]] || {
  echo "usage: $0 DIR STATE_DIR" >&2
  exit 2
}
root=$(cd "$1" && pwd)
state=$(mkdir -p "$2" && cd "$2" && pwd)
rm -f "$state/port" "$state/pid"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$state/key.pem" -out "$state/cert.pem" 2>/dev/null
cat >"$state/server.py" <<'PY'
import functools, http.server, os, ssl, sys
root, cert, key, portfile = sys.argv[1:5]
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
handler = functools.partial(Quiet, directory=root)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
os.rename(portfile + ".tmp", portfile)
httpd.serve_forever()
PY
python3 "$state/server.py" "$root" "$state/cert.pem" "$state/key.pem" "$state/port" \
  >"$state/server.log" 2>&1 </dev/null &
echo $! >"$state/pid"
for _ in $(seq 100); do
  [[ -s "$state/port" ]] && break
  sleep 0.05
done
[[ -s "$state/port" ]] || {
  cat "$state/server.log" >&2
  echo "serve-https: the server did not start" >&2
  exit 1
}
base=https://127.0.0.1:$(cat "$state/port")
curl -q --proto '=https' --tlsv1.2 -fsS --cacert "$state/cert.pem" -o /dev/null "$base/" || {
  echo "serve-https: cannot reach $base over https" >&2
  exit 1
}
printf '%s\n' "$base"
