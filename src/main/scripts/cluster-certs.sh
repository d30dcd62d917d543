#!/bin/sh
# Makes the cluster's CA (once) and one member certificate per address, with openssl (keytool cannot write
# a PEM private key). Usage: src/main/scripts/cluster-certs.sh DIR [ADDRESS...]; the addresses default to 127.0.0.1.
#   DIR/ca.pem, DIR/ca-key.pem                     the CA (its key signs members: keep it off the members)
#   DIR/member-ADDRESS.pem, DIR/member-ADDRESS-key.pem   a member certificate with ADDRESS as its IP SAN
# Existing files are kept, so running it again only adds what is missing. Keys are EC P-256, mode 0600.
set -eu
dir=${1:?usage: src/main/scripts/cluster-certs.sh DIR [ADDRESS...]}
shift
[ $# -gt 0 ] || set -- 127.0.0.1
command -v openssl >/dev/null || { echo "cluster-certs: openssl is not installed (apt-get install -y openssl)" >&2; exit 1; }
umask 077
mkdir -p "$dir"
days=825
if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca-key.pem" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=fib-service cluster CA $(date -u +%Y%m%d)-$(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  chmod 644 "$dir/ca.pem"
  echo "cluster-certs: made the CA $dir/ca.pem"
fi
for addr in "$@"; do
  cert="$dir/member-$addr.pem"
  key="$dir/member-$addr-key.pem"
  [ -f "$cert" ] && [ -f "$key" ] && continue
  ext="$dir/.member-$addr.ext"
  printf 'subjectAltName=IP:%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$addr" > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=fib-service member $addr" \
    -keyout "$key" -out "$dir/.member-$addr.csr" 2>/dev/null
  openssl x509 -req -in "$dir/.member-$addr.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days $days -sha256 -extfile "$ext" -out "$cert" 2>/dev/null
  rm -f "$ext" "$dir/.member-$addr.csr"
  chmod 644 "$cert"
  echo "cluster-certs: made $cert (IP SAN $addr) and $key"
done
