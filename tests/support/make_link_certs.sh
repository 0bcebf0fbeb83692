#!/usr/bin/env bash
# Certificates for the link's certificate mode in tests: two private CAs (A and B), a gateway
# certificate from A carrying the gateway's name as a DNS subjectAltName, one for another
# gateway name from A, one from A naming the gateway in its CN only, and an initiator
# certificate from each CA. EC P-256 keys, mode 0600.
# Usage: make_link_certs.sh DIR GATEWAY_NAME [OTHER_GATEWAY_NAME]
# Writes into DIR: ca-a.pem ca-b.pem gateway.{pem,key} other-gateway.{pem,key}
#                  cn-only-gateway.{pem,key} initiator-a.{pem,key} initiator-b.{pem,key}
set -euo pipefail
dir=$1
name=$2
other=${3:-other-$2}
openssl=${LBMAIL_OPENSSL:-openssl}
mkdir -p "$dir"
cd "$dir"
umask 077

key() { "$openssl" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca NAME: a self-signed CA certificate ca-NAME.pem with its key ca-NAME.key.
ca() {
  key "ca-$1.key"
  "$openssl" req -x509 -new -key "ca-$1.key" -out "ca-$1.pem" -days 30 -subj "/CN=lbmail test CA $1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# leaf OUT CA CN USAGE [SAN]: OUT.pem and OUT.key, signed by ca-CA.
leaf() {
  local out=$1 ca=$2 cn=$3 usage=$4 san=${5:-}
  key "$out.key"
  "$openssl" req -new -key "$out.key" -out "$out.csr" -subj "/CN=$cn" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    if [ -n "$san" ]; then echo "subjectAltName=$san"; fi
  } > "$out.ext"
  "$openssl" x509 -req -in "$out.csr" -CA "ca-$ca.pem" -CAkey "ca-$ca.key" -CAcreateserial -days 30 \
    -extfile "$out.ext" -out "$out.pem" 2>/dev/null
  rm -f "$out.csr" "$out.ext"
}

ca a
ca b
leaf gateway a "$name" serverAuth "DNS:$name"
leaf other-gateway a "$other" serverAuth "DNS:$other"
leaf cn-only-gateway a "$name" serverAuth
leaf initiator-a a "initiator A" clientAuth
leaf initiator-b b "initiator B" clientAuth
chmod 0644 ./*.pem
echo "certificates for $name in $dir"
