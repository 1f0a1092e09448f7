/**
 * Causes a fetch script meets on the network: certificates, TLS, names that do not resolve,
 * refused connections, timeouts, and HTTP statuses by family. Part of the one table in
 * `cause-rules.ts`, tried where it places them.
 */
import { httpFailure, likelyHost, likelyUrl, type HttpFailure } from './clues.js';
import { type CauseRule, regex, type Scene, windowHint } from './cause-rule.js';

function hostIn({ facts, text }: Scene): string {
  const host = likelyHost({
    error: text,
    logs: facts.logs,
    params: JSON.stringify(facts.params),
    script: facts.tap.script,
  });
  return host ? `the host ${host}` : 'the host in the script';
}

function statusText(http: HttpFailure): string {
  const reason = http.reason ? ` ${http.reason}` : '';
  const url = http.url ? ` for ${http.url}` : '';
  return `HTTP ${http.status}${reason}${url}`;
}

const http =
  (accept: (status: number) => boolean) =>
  ({ text }: Scene): string[] | null => {
    const found = httpFailure(text);
    return found && accept(found.status) ? [text] : null;
  };

function httpOf(scene: Scene): HttpFailure {
  return httpFailure(scene.text) ?? { status: 0, reason: null, url: null };
}

export const networkRules: CauseRule[] = [
  {
    cause: 'tls_certificate',
    match: regex(/CERTIFICATE_VERIFY_FAILED\]?\s*(?:certificate verify failed:?\s*)?([^\n(')]*)/),
    say: ([, reason], scene) =>
      `The TLS certificate of ${hostIn(scene)} was not trusted` +
      `${reason?.trim() ? ` (${reason.trim()})` : ''}. If the source uses a private or ` +
      `self-signed certificate, point SSL_CERT_FILE (or REQUESTS_CA_BUNDLE for requests) at its ` +
      `CA certificate; do not turn verification off. An expired certificate or a wrong host ` +
      `name must be fixed on the server.`,
  },
  {
    cause: 'tls',
    match: regex(/\[SSL: (\w+)\] ?([^(\n'>]*)|(SSLError|ssl\.SSL\w*Error)/),
    say: ([, code, detail, type], scene) =>
      `The TLS handshake with ${hostIn(scene)} failed (${detail?.trim() || code || type}). ` +
      `Check the URL's scheme and port: "wrong version number" means the port speaks plain ` +
      `HTTP, so use http:// or the HTTPS port; otherwise the server's TLS setup or a proxy ` +
      `is at fault.`,
  },
  {
    cause: 'dns',
    match: regex(
      new RegExp(
        [
          'Name or service not known', // glibc
          'nodename nor servname', // macOS
          'Temporary failure in name resolution', // no DNS server reachable
          'getaddrinfo (?:failed|ENOTFOUND)',
          'NameResolutionError', // urllib3 2.x
          'No address associated with hostname',
          'ENOTFOUND',
          'Failed to resolve',
        ].join('|'),
      ),
    ),
    say: (_found, scene) =>
      `The name of ${hostIn(scene)} could not be resolved (DNS lookup failed). Check the host ` +
      `name in the URL for typos, and that the machine running tapline can resolve it ` +
      `(network, VPN, or the proxy variables).`,
  },
  {
    cause: 'connection_refused',
    match: regex(/Connection refused|ECONNREFUSED|\[Errno 111\]|\[Errno 61\]|WinError 10061/),
    say: (_found, scene) =>
      `Nothing accepted the connection at ${hostIn(scene)} (connection refused): the service is ` +
      `down, or the host or port is wrong. Check the URL and that the service is running and ` +
      `reachable from the machine running tapline.`,
  },
  {
    cause: 'request_timeout',
    match: regex(/(ReadTimeout|ConnectTimeout|TimeoutError|socket\.timeout|timed out)/),
    say: ([what], scene) =>
      `The source at ${hostIn(scene)} did not answer within the request's own timeout ` +
      `(${what}). It may be slow or overloaded: retry later, raise the timeout passed to the ` +
      `request, or ask for less per request through params (a smaller window or page size).`,
  },
  {
    cause: 'http_401',
    match: http((status) => status === 401),
    say: (_found, scene) => {
      const secret = scene.facts.tap.secret;
      const advice = secret
        ? `Check that the secret '${secret}' holds a current key or token and that the script ` +
          `sends it the way the source expects (header name, "Bearer " prefix).`
        : `The tap has no secret: if the source needs a key or token, store it as a secret, ` +
          `set it as the tap's secret and send it from the script.`;
      return `The source refused the credentials (${statusText(httpOf(scene))}). ${advice}`;
    },
  },
  {
    cause: 'http_403',
    match: http((status) => status === 403),
    say: (_found, scene) => {
      const secret = scene.facts.tap.secret;
      const who = secret
        ? `The key in secret '${secret}' may lack a permission or scope for this resource, or ` +
          `be limited to other IP addresses`
        : `The request may need credentials (the tap has no secret), or the source blocks ` +
          `this client's IP address or User-Agent`;
      return (
        `The source refused access (${statusText(httpOf(scene))}). ${who}; check the ` +
        `account's access to this resource. Some APIs also answer 403 when a rate limit is hit.`
      );
    },
  },
  {
    cause: 'http_404',
    match: http((status) => status === 404),
    say: (_found, scene) => {
      const found = httpOf(scene);
      const url = found.url ?? likelyUrl(scene.text, JSON.stringify(scene.facts.params));
      const what = url ? `at ${url}` : 'at the requested URL';
      return (
        `The source has nothing ${what} (HTTP 404 Not Found). Check the URL's path, the API ` +
        `version, and any ids or dates the script builds into it from params.`
      );
    },
  },
  {
    cause: 'http_429',
    match: http((status) => status === 429),
    say: (_found, scene) =>
      `The source is rate limiting the tap (${statusText(httpOf(scene))}). Slow down: retry ` +
      `with backoff (honour the Retry-After header), make fewer requests per run, or fetch a ` +
      `smaller window through params${windowHint(scene.facts.params)}.`,
  },
  {
    cause: 'http_5xx',
    match: http((status) => status >= 500),
    say: (_found, scene) =>
      `The source itself is failing (${statusText(httpOf(scene))}): that is an error on its ` +
      `side, not in the tap. Retry later; if the same request keeps failing, a smaller window ` +
      `or page size through params may keep it from timing out on the source's side.`,
  },
  {
    cause: 'http_4xx',
    match: http((status) => status >= 400 && status < 500),
    say: (_found, scene) =>
      `The source rejected the request (${statusText(httpOf(scene))}). Check the query ` +
      `parameters the script builds from params (date formats, names, limits) against the ` +
      `API's documentation; the response body usually says which one is wrong.`,
  },
];
