#!/usr/bin/env bash
# Serve a class: N Streamlit replicas behind Debian's nginx, with session affinity.
#
#   bash scripts/serve.sh [--replicas N] [--port P] [--host ADDRESS] [--dir RUNDIR]
#
# nginx listens on ADDRESS:P (default 0.0.0.0:8500, so students reach it over the room's network);
# the replicas listen on 127.0.0.1:P+1 ... P+N.
#
# One Streamlit process uses about one core for Python work, so a machine with C cores is best
# served by about C replicas. nginx keeps each browser on one replica (Streamlit's websocket and
# its upload / media requests must reach the process that holds the session, or uploads fail
# with HTTP 400: streamlit issues #4173 / #2936), passes the websocket upgrade through, and stops
# sending new sessions to a replica that does not answer. Each replica runs under a small
# supervisor that restarts it when it dies. Ctrl-C (or SIGTERM) stops everything.
#
# Affinity without nginx Plus's sticky cookies: the answer to a browser's websocket handshake
# (where Streamlit's session lives) sets a cookie naming the replica that took it, and every
# request with that cookie goes to that replica (the others are its backups, for when it is
# down). A browser's websocket without the cookie goes to the replica with the fewest websockets
# opened without one: least_conn over an upstream group that only those handshakes use (nginx
# counts connections per group; until 2026-12-03 the handshakes shared theirs with the page's
# cookieless file requests, so a newcomer whose page files were still loading from the quieter
# replica could have its websocket sent to the busier one). Only the handshake sets the cookie,
# so it always names the replica that holds the session: a request that failed over for a
# moment leaves it alone. (Until 2026-12-02 the cookie held a random key hashed onto the
# replicas: a student who arrived while a replica was down was served by another, and once the
# dead one was back the key sent that student's uploads to it, which refused them with HTTP 400.)
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=2
port=8500
host=0.0.0.0
rundir=""
while (($#)); do
  case "$1" in
    --replicas) replicas="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --host) host="$2"; shift 2 ;;
    --dir) rundir="$2"; shift 2 ;;
    *) echo "usage: bash scripts/serve.sh [--replicas N] [--port P] [--host ADDRESS] [--dir RUNDIR]" >&2; exit 2 ;;
  esac
done
[[ "$replicas" =~ ^[1-9][0-9]*$ ]] || { echo "--replicas takes a whole number, at least 1" >&2; exit 2; }

[[ -x .venv/bin/streamlit ]] || bash scripts/setup.sh
if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  echo "installing Debian's nginx"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

rundir=${rundir:-$(mktemp -d -t mobilenet-serve.XXXXXX)}
mkdir -p "$rundir"
rundir=$(cd "$rundir" && pwd)
chmod 755 "$rundir"  # nginx's workers (user nobody when started as root) read and write below it
for temp in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$rundir/$temp" && chmod 777 "$rundir/$temp"; done
pids=()
cleanup() {
  trap - EXIT INT TERM
  [[ -f "$rundir/nginx.pid" ]] && kill "$(cat "$rundir/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# one cookie secret for every replica: Streamlit's XSRF token from one replica is then valid on
# another (after a replica dies, its students' browsers reach a live one)
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
servers=""    # the balanced upstreams, for a browser without the cookie (its files, its websocket)
replica_upstreams=""  # one upstream per replica, the others its backups
cookie_to_upstream=""
addr_to_cookie=""
for ((i = 1; i <= replicas; i++)); do
  rport=$((port + i))
  servers+="    server 127.0.0.1:$rport max_fails=1 fail_timeout=10s;"$'\n'
  # the primary is never marked down (max_fails=0): one failed request must not move its sessions
  replica_upstreams+="  upstream replica$i {"$'\n'"    server 127.0.0.1:$rport max_fails=0;"$'\n'
  for ((j = 1; j <= replicas; j++)); do
    ((j == i)) || replica_upstreams+="    server 127.0.0.1:$((port + j)) max_fails=1 fail_timeout=10s backup;"$'\n'
  done
  replica_upstreams+="  }"$'\n'
  cookie_to_upstream+="    r$i replica$i;"$'\n'
  addr_to_cookie+="    ~127\\.0\\.0\\.1:$rport\$ r$i;"$'\n'
  # the supervisor: start the replica again whenever it exits
  # measured latencies (the trade-off explorer's) are shared by the replicas through one SQLite file
  MOBILENET_EXPLORER_SHARED_DIR="$rundir" STREAMLIT_SERVER_COOKIE_SECRET=$secret setsid bash -c "
    while true; do
      .venv/bin/streamlit run app/main.py --server.port $rport --server.address 127.0.0.1 \
        --server.headless true >>'$rundir/replica$i.log' 2>&1
      echo \"replica $i exited (\$?), restarting\" >>'$rundir/replica$i.log'
      sleep 1
    done" &
  pids+=($!)
  echo "$!" >"$rundir/replica$i.supervisor.pid"
done

# The frontend's files (Streamlit's, and the charts' Plotly bundle in app/static) are read by nginx
# from disk, compressed: a browser's first page asks for 110-125 of them, 3.7-4.1 MB that Streamlit sends
# uncompressed, and serving them cost a replica about 290 ms of CPU per page load (2026-12-04), in
# the Python process that runs the sessions' scripts. A file nginx cannot read goes to a replica.
streamlit_static=$(.venv/bin/python -c "import os, streamlit; print(os.path.join(os.path.dirname(streamlit.__file__), 'static'))")
app_root=$(pwd)

cat >"$rundir/nginx.conf" <<EOF
worker_processes 1;
pid $rundir/nginx.pid;
error_log $rundir/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # the types of the files nginx serves itself (module scripts must come as JavaScript)
  types {
    text/html html; text/css css; text/javascript js mjs; application/json json; text/plain txt;
    image/png png; image/svg+xml svg; image/x-icon ico; font/woff2 woff2; font/woff woff; font/ttf ttf;
  }
  default_type application/octet-stream;
  gzip on;   # for nginx's own files (below) and the replicas' pages and JSON
  gzip_types text/css text/javascript application/json text/plain image/svg+xml;
  gzip_min_length 1024;
  gzip_vary on;
  client_body_temp_path $rundir/client_body;
  proxy_temp_path $rundir/proxy;
  fastcgi_temp_path $rundir/fastcgi;
  uwsgi_temp_path $rundir/uwsgi;
  scgi_temp_path $rundir/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  # the replica the browser's cookie names, or (no cookie, or an unknown one) a balanced upstream:
  # the websocket's own, so that its least_conn counts the sessions' websockets and nothing else
  map \$cookie_mne_replica \$backend {
    default mobilenet_explorer;
$cookie_to_upstream  }
  map \$cookie_mne_replica \$session_backend {
    default mobilenet_sessions;
$cookie_to_upstream  }
  # who answered: the last address nginx tried (after a failover \$upstream_addr lists them all)
  map \$upstream_addr \$served_by {
    default '';
$addr_to_cookie  }
  # the affinity cookie, or nothing (nginx adds no header with an empty value) if nginx answered
  map \$served_by \$replica_cookie {
    default "mne_replica=\$served_by; Path=/; HttpOnly; SameSite=Lax";
    '' '';
  }
  upstream mobilenet_explorer {
    least_conn;
$servers  }
  upstream mobilenet_sessions {
    least_conn;
$servers  }
$replica_upstreams  server {
    listen $host:$port;
    client_max_body_size 210m;   # checkpoints: Streamlit's 200 MB (.streamlit/config.toml) and the form's framing
    proxy_http_version 1.1;
    proxy_set_header Host \$host;
    proxy_set_header Upgrade \$http_upgrade;
    proxy_set_header Connection \$connection_upgrade;
    proxy_read_timeout 86400s;   # a lecture's websocket stays open for hours
    proxy_send_timeout 86400s;
    proxy_connect_timeout 2s;
    proxy_next_upstream error timeout http_502 http_503;
    proxy_buffering off;            # stream the app's responses as they come
    proxy_request_buffering off;    # and uploads straight to the replica
    location / {
      proxy_pass http://\$backend;
      add_header X-Mne-Replica \$served_by always;   # which replica answered (operators, tests)
    }
    # Streamlit's frontend files: content-hashed names, so a browser keeps them for good
    location /static/ {
      root "$streamlit_static";
      try_files \$uri @replica;
      add_header Cache-Control "public, immutable, max-age=31536000";
    }
    # the app's own (the charts' Plotly bundle: its URL carries its hash; checked again each time)
    location /app/static/ {
      root "$app_root";
      try_files \$uri @replica;
      add_header Cache-Control "no-cache";
    }
    location @replica {
      proxy_pass http://\$backend;
      add_header X-Mne-Replica \$served_by always;
    }
    location = /_stcore/stream {   # the websocket: the session is where its handshake went
      proxy_pass http://\$session_backend;
      add_header X-Mne-Replica \$served_by always;
      add_header Set-Cookie \$replica_cookie always;
    }
  }
}
EOF

# wait for every replica's health check before nginx takes traffic
for ((i = 1; i <= replicas; i++)); do
  for _ in $(seq 1 120); do
    .venv/bin/python -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:$((port + i))/_stcore/health" 2>/dev/null && break
    sleep 0.5
  done
done
"$NGINX" -c "$rundir/nginx.conf" -p "$rundir" -e "$rundir/nginx-error.log"
echo "serving MobileNet Explorer at http://$host:$port with $replicas replicas (logs in $rundir)"
wait
