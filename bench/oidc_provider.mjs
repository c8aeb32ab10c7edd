// bench/oidc_provider.mjs: Node's oidc-provider with its in-memory adapter, for bench/run to compare
// introspection against.  bench/run installs oidc-provider from npm and runs:
//
//     node bench/oidc_provider.mjs          (NODE_PATH is not used by ES modules: run it with the
//                                            installed node_modules beside a copy of this file)
//
// Environment: BENCH_PORT (listen on 127.0.0.1), BENCH_TOKEN (the access token's value),
// BENCH_SECRET (the resource server's client secret), BENCH_WORKERS (1: one process, Node's
// default; N > 1: node:cluster with N worker processes sharing the port).
//
// Each process seeds its own memory with the same grant and access token (an opaque token of a
// signed-in account, as a resource server would introspect), so in cluster mode every worker knows it.
// The resource server authenticates with client_secret_basic; POST /token/introspection answers it.

import cluster from 'node:cluster';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.BENCH_PORT);
const token = process.env.BENCH_TOKEN;
const secret = process.env.BENCH_SECRET;
const workers = Number(process.env.BENCH_WORKERS || '1');

async function serve() {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'app', client_secret: 'not-used', redirect_uris: ['https://app.example/callback'] },
      // the resource server: it only introspects
      {
        client_id: 'resource', client_secret: secret, redirect_uris: [], response_types: [], grant_types: [],
      },
    ],
    features: { introspection: { enabled: true }, devInteractions: { enabled: false } },
    cookies: { keys: ['bench-cookie-key-not-secret'] },
  });
  const grant = new provider.Grant({ jti: 'bench-grant', accountId: 'owner', clientId: 'app' });
  grant.addOIDCScope('openid profile');
  await grant.save();
  const client = await provider.Client.find('app');
  const accessToken = new provider.AccessToken({
    jti: token, accountId: 'owner', client, grantId: 'bench-grant', scope: 'openid profile', expiresIn: 86400,
  });
  accessToken.format = 'opaque'; // what generateTokenId() sets when the value is left to the provider
  await accessToken.save();
  http.createServer(provider.callback()).listen(port, '127.0.0.1', () => {
    console.log(`oidc-provider (pid ${process.pid}) serving ${issuer}/`);
  });
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on('exit', (worker, code) => console.log(`worker ${worker.process.pid} exited with ${code}`));
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      for (const worker of Object.values(cluster.workers)) worker.kill();
      process.exit(0);
    });
  }
} else {
  await serve();
}
