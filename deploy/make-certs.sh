#!/usr/bin/env bash
# A private CA and certificates for trying liaisond's TLS listener locally (docs/SECURITY.md, "TLS").
#
#   deploy/make-certs.sh DIR [ACCOUNT ...]
#
# Writes into DIR (created if missing; existing files are replaced):
#   ca.pem, ca.key                  a private certificate authority (10 years, EC P-256)
#   server.pem, server.key          liaisond's certificate, signed by the CA, valid for
#                                   DNS:localhost, IP:127.0.0.1 and IP:::1 (825 days)
#   client-<account>.pem/.key       one client certificate per ACCOUNT (default: ohchr and
#                                   unhcr-mm-sittwe) whose subject CN is the account name, for
#                                   mutual TLS (tls.clientCA = DIR/ca.pem)
# Private keys are PKCS#8 PEM, readable by the owner only. Never use this CA outside a test bed.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 DIR [ACCOUNT ...]" >&2
    exit 64
fi
dir=$1
shift
accounts=("$@")
if [[ ${#accounts[@]} -eq 0 ]]; then accounts=(ohchr unhcr-mm-sittwe); fi
for account in "${accounts[@]}"; do
    # Account names are protocol tokens; anything else would make a misleading file name or subject.
    if [[ ! $account =~ ^[A-Za-z0-9_-]+$ ]]; then
        echo "make-certs: '$account' is not an account name ([A-Za-z0-9_-]+)" >&2
        exit 64
    fi
done

command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 69; }
mkdir -p "$dir"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The CA.
newkey "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/O=Liaison test bed/CN=Liaison test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem"

# sign NAME SUBJECT EXTENSIONS: NAME.key and NAME.pem, signed by the CA.
sign() {
    local name=$1 subject=$2 extensions=$3
    newkey "$dir/$name.key"
    openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$work/$name.csr"
    printf '%s\n' "$extensions" >"$work/$name.ext"
    openssl x509 -req -in "$work/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -CAserial "$work/ca.srl" -sha256 -days 825 -extfile "$work/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

sign server "/O=Liaison test bed/CN=localhost" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"

for account in "${accounts[@]}"; do
    sign "client-$account" "/O=Liaison test bed/CN=$account" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done

chmod 644 "$dir"/*.pem
echo "make-certs: wrote ca, server and ${#accounts[@]} client certificate(s) to $dir" >&2
