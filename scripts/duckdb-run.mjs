// Runs one SQL statement in DuckDB with the given thread count:
//   node duckdb-run.mjs THREADS "SQL"
// Used by bench.sh as the baseline; prints nothing on success.
import { DuckDBInstance } from '@duckdb/node-api';

const [, , threads, ...sql] = process.argv;
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
await connection.run(sql.join(' '));
