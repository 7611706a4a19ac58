#!/usr/bin/env bash
# Browser tests: builds torget, starts `torget demo` on a free loopback port
# with a fresh SQLite database, runs e2e/*.test.mjs with node's test runner
# against it in headless Chromium, and stops the server, also on failure.
# Needs /usr/bin/chromium (Debian's chromium) and `npm ci --prefix e2e`.
# Arguments, if any, are the test files to run instead of all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

tmp=$(mktemp -d)
demo_pid="" remote_pid="" oidc_pid=""
cleanup() {
  local pid
  for pid in "$demo_pid" "$oidc_pid" "$remote_pid"; do
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/torget" ./cmd/torget
go build -o "$tmp/fakeremote" ./e2e/fakeremote

# A fediverse peer on loopback (e2e/fakeremote): it sends real signed
# replies to the demo group when a test asks it to. torget trusts its TLS
# certificate and may reach loopback addresses for this run only.
"$tmp/fakeremote" -ca-out "$tmp/remote-ca.pem" >"$tmp/remote.log" 2>&1 &
remote_pid=$!
remote=""
for _ in $(seq 100); do
  remote=$(sed -n 's/^control \(http:[^ ]*\)$/\1/p' "$tmp/remote.log" | head -n1)
  [ -n "$remote" ] && break
  kill -0 "$remote_pid" 2>/dev/null || { cat "$tmp/remote.log"; echo "fakeremote exited"; exit 1; }
  sleep 0.1
done
[ -n "$remote" ] || { cat "$tmp/remote.log"; echo "fakeremote did not come up"; exit 1; }
export TORGET_FEDERATION_CA_FILE="$tmp/remote-ca.pem" TORGET_FEDERATION_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8"

# A free port: ask the kernel for one, then hand it to torget.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export TORGET_SERVER_LISTEN="127.0.0.1:$port" TORGET_SERVER_DOMAIN="localhost:$port" TORGET_DATABASE_URL="sqlite:$tmp/e2e.db"
# The scheduler looks for due posts every second, so that the browser test
# can schedule a post a few seconds ahead and watch it appear.
export TORGET_DELIVERY_SCHEDULE_POLL=1s

# A second account, an editor, for the TOTP test, so that turning on the
# second factor does not change how the other tests sign in as admin.
totp_pw=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
printf '%s\n' "$totp_pw" | "$tmp/torget" admin create-user e2e-totp --role editor --password-stdin >/dev/null

# A second administrator: a rule proposed by admin is in force only once
# another administrator approves it (GOV-3).
admin2_pw=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
printf '%s\n' "$admin2_pw" | "$tmp/torget" admin create-user e2e-admin2 --role admin --password-stdin >/dev/null

# An editor assigned to a group of its own (e2e-redaktion) and to no other,
# for the editor-boundary test: the demo group stays out of its reach.
editor_pw=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
printf '%s\n' "$editor_pw" | "$tmp/torget" admin create-user e2e-editor --role editor --password-stdin >/dev/null
"$tmp/torget" group create e2e-redaktion --name "Redaktionens testgrupp" --purpose "Grupp för webbläsartesterna." \
  --owning-unit "Testenheten" --responsible e2e-editor >/dev/null

# Single sign-on: a test OpenID Connect provider (e2e/oidc-provider.mjs)
# over https with a throwaway self-signed certificate for 127.0.0.1, which
# torget trusts through federation.ca_file (a bundle with fakeremote's CA). The account e2e-oidc exists;
# signing in through the provider as it maps to it, any other name does not.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$tmp/oidc-key.pem" -out "$tmp/oidc-cert.pem" 2>"$tmp/openssl.log" || { cat "$tmp/openssl.log"; exit 1; }
oidc_secret=$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')
node e2e/oidc-provider.mjs --cert "$tmp/oidc-cert.pem" --key "$tmp/oidc-key.pem" --port-file "$tmp/oidc.port" \
  --client-id torget-e2e --client-secret "$oidc_secret" --redirect "http://localhost:$port/login/oidc/callback" >"$tmp/oidc.log" 2>&1 &
oidc_pid=$!
for _ in $(seq 100); do [ -s "$tmp/oidc.port" ] && break; kill -0 "$oidc_pid" 2>/dev/null || break; sleep 0.1; done
[ -s "$tmp/oidc.port" ] || { cat "$tmp/oidc.log"; echo "the test OIDC provider did not come up"; exit 1; }
oidc_pw=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
printf '%s\n' "$oidc_pw" | "$tmp/torget" admin create-user e2e-oidc --role editor --password-stdin >/dev/null
export TORGET_OIDC_ISSUER="https://127.0.0.1:$(cat "$tmp/oidc.port")" TORGET_OIDC_CLIENT_ID=torget-e2e \
  TORGET_OIDC_CLIENT_SECRET="$oidc_secret"
cat "$tmp/remote-ca.pem" "$tmp/oidc-cert.pem" >"$tmp/ca-bundle.pem"
export TORGET_FEDERATION_CA_FILE="$tmp/ca-bundle.pem"

"$tmp/torget" demo >"$tmp/demo.log" 2>&1 &
demo_pid=$!
base="" pw=""
for _ in $(seq 300); do
  if ! kill -0 "$demo_pid" 2>/dev/null; then cat "$tmp/demo.log"; echo "torget demo exited"; exit 1; fi
  if grep -q '^  Login:' "$tmp/demo.log"; then
    base=$(sed -n 's/^  URL: *\(http[^ ]*\)\/$/\1/p' "$tmp/demo.log" | head -n1)
    pw=$(sed -n 's/^  Login: *admin \/ \(.*\)$/\1/p' "$tmp/demo.log" | head -n1)
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  fi
  sleep 0.2
done
[ -n "$base" ] && [ -n "$pw" ] || { cat "$tmp/demo.log"; echo "torget demo did not come up"; exit 1; }
echo "torget demo at $base"

# An archive package of the demo database, for archive.test.mjs: its HTML
# rendering is opened from disk in Chromium.
"$tmp/torget" archive export --from 2000-01-01 --to 2099-12-31 --out "$tmp/archive" >"$tmp/archive.log" \
  || { cat "$tmp/archive.log"; echo "archive export of the demo failed"; exit 1; }
export TORGET_E2E_ARCHIVE="$(ls -d "$tmp"/archive/uuid-*)"

export TORGET_E2E_BASE="$base" TORGET_E2E_ADMIN_PASSWORD="$pw" TORGET_E2E_REMOTE="$remote"
export TORGET_E2E_ADMIN2_USER=e2e-admin2 TORGET_E2E_ADMIN2_PASSWORD="$admin2_pw"
export TORGET_E2E_TOTP_USER=e2e-totp TORGET_E2E_TOTP_PASSWORD="$totp_pw"
export TORGET_E2E_EDITOR_USER=e2e-editor TORGET_E2E_EDITOR_PASSWORD="$editor_pw" TORGET_E2E_EDITOR_GROUP=e2e-redaktion
export TORGET_E2E_OIDC_USER=e2e-oidc
set +e
if [ "$#" -gt 0 ]; then node --test "$@"; else node --test e2e/*.test.mjs; fi
rc=$?
set -e
if [ "$rc" -ne 0 ]; then echo "--- server log (last 40 lines)"; tail -n 40 "$tmp/demo.log" | grep -v 'Login:'; fi
exit "$rc"
