# A bash script that drives coreutils and friends: pipes, subshells, command substitution, archives.
set -euo pipefail
seq 1 20000 > nums
sort -rn nums | sed -n 1,3p
awk '{ s += $1 } END { print s }' nums
printf '%s\n' banana apple cherry apple | sort | uniq -c
sha256sum nums | cut -d' ' -f1
sed 's/1/one/g' nums | grep -c one
tar czf nums.tgz nums && tar tzf nums.tgz
gzip -c nums | gunzip | wc -l
mkdir -p d/e && touch d/e/f d/g && find d | sort
xargs -n 1000 < nums | wc -l
for i in $(seq 3); do (echo "subshell $i"); done | tac
date -u -d @0 +%F
id -u
echo "$(basename "$(pwd)") $(( $(wc -l < nums) * 2 ))"
cut -c1-2 nums | sort -u | paste -sd, | fold -w 40 | sed -n 1,2p
