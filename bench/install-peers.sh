#!/usr/bin/env bash
# `make bench`: installs the suite's optional peers (nginx, wrk, python3-gmpy2, python3-aiomysql, python3-celery, redis-server) with apt when it can, and says
# clearly when it can't; the suite then skips the rows that need them. BENCH_NO_INSTALL=1 skips the install.
set -u
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# the suite looks for gmpy2 in `python3` on PATH, then in Debian's /usr/bin/python3
python3 -c 'import gmpy2' >/dev/null 2>&1 || /usr/bin/python3 -c 'import gmpy2' >/dev/null 2>&1 || missing+=(python3-gmpy2)
# the aiomysql /db server of bench/peers runs on Debian's own /usr/bin/python3
/usr/bin/python3 -c 'import aiomysql' >/dev/null 2>&1 || missing+=(python3-aiomysql)
# the jobs race's peer: Celery with Redis as broker and result backend
/usr/bin/python3 -c 'import celery, redis' >/dev/null 2>&1 || missing+=(python3-celery python3-redis)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench: peers present: nginx, wrk, gmpy2, aiomysql, celery, redis-server"
  exit 0
fi
if [ "${BENCH_NO_INSTALL:-0}" = 1 ]; then
  echo "bench: not installing ${missing[*]} (BENCH_NO_INSTALL=1): the suite skips what needs them"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bench: installing ${missing[*]} with apt-get"
  if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "bench: installed ${missing[*]}"
  else
    echo "bench: could NOT install ${missing[*]} with apt-get: the suite skips what needs them"
  fi
else
  echo "bench: ${missing[*]} missing and not installable here (needs root and apt-get): the suite skips what needs"
  echo "       them; to add them: sudo apt-get install ${missing[*]}"
fi
exit 0
