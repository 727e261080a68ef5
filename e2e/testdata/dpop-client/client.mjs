// Makes DPoP proofs (RFC 9449) with panva's dpop package, for authsvc's
// end-to-end tests: a client that shares no code with authsvc.
//
//   node client.mjs keygen ALG      prints {"alg", "jwk" (private), "jkt"}
//   node client.mjs proof           reads {"alg", "jwk", "htm", "htu",
//                                   "nonce"?, "accessToken"?} on stdin and
//                                   prints one proof
//
// jkt is the key's RFC 7638 thumbprint, computed here independently of
// authsvc.
import { createHash, webcrypto } from 'node:crypto'

// Node 18 has WebCrypto only behind a flag as a global; dpop needs it.
globalThis.crypto ??= webcrypto
const DPoP = await import('dpop')
const subtle = globalThis.crypto.subtle

const algorithms = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
}

// thumbprint: the required members in lexicographic order, no whitespace,
// SHA-256, base64url (RFC 7638 section 3).
function thumbprint(jwk) {
  const members = jwk.kty === 'EC'
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { e: jwk.e, kty: jwk.kty, n: jwk.n }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}

function publicPart(jwk) {
  const { d, p, q, dp, dq, qi, key_ops, ext, ...pub } = jwk
  return pub
}

async function keygen(alg) {
  const pair = await DPoP.generateKeyPair(alg, { extractable: true })
  const jwk = await subtle.exportKey('jwk', pair.privateKey)
  return { alg, jwk, jkt: thumbprint(jwk) }
}

async function proof(req) {
  const algorithm = algorithms[req.alg]
  const privateKey = await subtle.importKey('jwk', req.jwk, algorithm, false, ['sign'])
  const publicKey = await subtle.importKey('jwk', publicPart(req.jwk), algorithm, true, ['verify'])
  return DPoP.generateProof({ privateKey, publicKey }, req.htu, req.htm, req.nonce || undefined, req.accessToken || undefined)
}

async function stdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

const [command, arg] = process.argv.slice(2)
if (command === 'keygen') {
  process.stdout.write(JSON.stringify(await keygen(arg)))
} else if (command === 'proof') {
  process.stdout.write(await proof(await stdin()))
} else {
  process.stderr.write('usage: node client.mjs keygen ALG | proof < request.json\n')
  process.exit(2)
}
