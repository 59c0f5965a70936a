-- sqlite3: recursive CTE, an index, window functions, JSON and FTS5.
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, val TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t(grp, val) SELECT x % 97, hex(x * 7919) FROM c;
CREATE INDEX t_grp ON t(grp);
SELECT grp, count(*), max(val) FROM t WHERE grp < 5 GROUP BY grp;
SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t WHERE id <= 5;
SELECT json_object('n', count(*), 'groups', count(DISTINCT grp)) FROM t;
CREATE VIRTUAL TABLE docs USING fts5(body);
INSERT INTO docs VALUES ('sealing memory with mseal'), ('a loader seals objects'), ('nothing here');
SELECT rowid, body FROM docs WHERE docs MATCH 'seal*' ORDER BY rowid;
PRAGMA integrity_check;
