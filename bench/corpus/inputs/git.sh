# git on a local repository: init, commits, branches, merge, log, gc, fsck, archive. Fixed dates: fixed hashes.
set -euo pipefail
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=corpus GIT_AUTHOR_EMAIL=corpus@example.invalid
export GIT_COMMITTER_NAME=corpus GIT_COMMITTER_EMAIL=corpus@example.invalid
export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
git init -q -b main repo
cd repo
for i in $(seq 1 25); do
  seq 1 "$i" > "file$((i % 5))"
  git add -A
  git commit -q -m "commit $i"
done
git checkout -q -b side HEAD~5
echo side > side.txt && git add side.txt && git commit -q -m "side work"
git checkout -q main
git merge -q --no-edit side
git log --oneline --graph -8
git log --stat -2 | tail -12
git rev-list --count HEAD
git gc --quiet
git count-objects -v | grep -E '^(count|in-pack|packs)'
git fsck --no-progress --strict 2>&1
git archive HEAD | tar t | sort
git diff HEAD~3 --stat
git grep -c 7
