"""A standard OAuth 2.0 client (Authlib's requests integration) against `tessera serve`.

Run by tests/suite/oauth_python.rs with the venv that .ci/deps.sh makes from
requirements.txt beside this file. For each client authentication method
(client_secret_basic, then client_secret_post) it reads the server's metadata
(RFC 8414), gets a client-credentials token with Authlib's OAuth2Session, calls
GET /v1/me and GET /v1/tokens with it, and finally asks for a token with a wrong
secret. It prints one JSON object to stdout:

    {"metadata": {...}, "basic": {...}, "post": {...}, "wrong_secret": {...}}

where each method's entry holds the token type, lifetime and granted scope, the
first six characters of the access token, the /v1/me answer and the status of
/v1/tokens. Neither the client secret nor an access token is ever printed.

    TESSERA_CLIENT_SECRET=... python oauth_client.py --base https://127.0.0.1:PORT \
        --ca ca.pem --client-id tsr_c_... [--basic-scope "me:read"] [--post-scope ""]

The secret comes from the environment only, so it never shows in a process list.
An empty or missing scope option sends no `scope`: the client's full scopes.
Exit status: 0 on success, 1 on any failure (with a message on stderr), 2 on bad
arguments.
"""

import argparse
import json
import os
import sys

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

METHODS = (("basic", "client_secret_basic"), ("post", "client_secret_post"))
TIMEOUT = 30


class Failure(Exception):
    """A check that did not hold; the message goes to stderr."""


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default=os.environ.get("TESSERA_BASE_URL"),
                   help="the server, e.g. https://127.0.0.1:8443 (or TESSERA_BASE_URL)")
    p.add_argument("--ca", default=os.environ.get("TESSERA_CA_FILE"),
                   help="PEM file of the CA to trust (or TESSERA_CA_FILE)")
    p.add_argument("--client-id", default=os.environ.get("TESSERA_CLIENT_ID"),
                   help="the client's client_id (or TESSERA_CLIENT_ID)")
    p.add_argument("--basic-scope", default="",
                   help="scope to ask for with client_secret_basic (default: none)")
    p.add_argument("--post-scope", default="",
                   help="scope to ask for with client_secret_post (default: none)")
    args = p.parse_args()
    missing = [name for name, value in (("--base", args.base), ("--ca", args.ca),
                                        ("--client-id", args.client_id)) if not value]
    if missing:
        p.error("missing " + ", ".join(missing))
    if not os.path.isfile(args.ca):
        p.error(f"--ca {args.ca}: no such file")
    args.base = args.base.rstrip("/")
    return args


def plain_session(ca):
    """A requests session that trusts only `ca` and ignores proxy and netrc settings."""
    s = requests.Session()
    s.verify = ca
    s.trust_env = False
    return s


def metadata(args):
    with plain_session(args.ca) as s:
        res = s.get(f"{args.base}/.well-known/oauth-authorization-server", timeout=TIMEOUT)
        if res.status_code != 200:
            raise Failure(f"metadata: HTTP {res.status_code}")
        meta = res.json()
    if "client_credentials" not in meta.get("grant_types_supported", []):
        raise Failure(f"metadata: client_credentials is not a supported grant: {meta}")
    if not meta.get("token_endpoint"):
        raise Failure(f"metadata: no token_endpoint: {meta}")
    return meta


def oauth_session(args, secret, method, scope):
    s = OAuth2Session(
        client_id=args.client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        scope=scope or None,
        default_timeout=TIMEOUT,
    )
    s.verify = args.ca
    s.trust_env = False
    return s


def one_method(args, secret, meta, method, scope):
    if method not in meta.get("token_endpoint_auth_methods_supported", []):
        raise Failure(f"{method}: not in the server's token_endpoint_auth_methods_supported")
    with oauth_session(args, secret, method, scope) as s:
        try:
            token = s.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
        except OAuthError as e:
            raise Failure(f"{method}: the token request was refused: {e}") from None
        access = token.get("access_token") or ""
        if not access:
            raise Failure(f"{method}: the answer holds no access_token")
        # The session signs these with the token it just got (Authorization: Bearer).
        me = s.get(f"{args.base}/v1/me")
        if me.status_code != 200:
            raise Failure(f"{method}: GET /v1/me answered HTTP {me.status_code}: {me.text}")
        tokens = s.get(f"{args.base}/v1/tokens")
        return {
            "auth_method": method,
            "asked_scope": scope or None,
            "token_type": token.get("token_type"),
            "expires_in": token.get("expires_in"),
            "scope": token.get("scope"),
            "token_prefix": access[:6],
            "me": me.json(),
            "tokens_status": tokens.status_code,
        }


def wrong_secret(args, secret, meta):
    """A token request with a secret that is not the client's: the server's error code."""
    wrong = secret[:-1] + ("A" if secret[-1:] != "A" else "B")
    with oauth_session(args, wrong, "client_secret_basic", None) as s:
        try:
            s.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
        except OAuthError as e:
            return {"error": e.error}
    raise Failure("a wrong secret got a token")


def main():
    args = arguments()
    secret = os.environ.get("TESSERA_CLIENT_SECRET", "")
    if not secret:
        print("error: set TESSERA_CLIENT_SECRET to the client's secret", file=sys.stderr)
        return 2
    scopes = {"basic": args.basic_scope, "post": args.post_scope}
    try:
        meta = metadata(args)
        out = {"metadata": {k: meta.get(k) for k in (
            "token_endpoint", "grant_types_supported", "token_endpoint_auth_methods_supported")}}
        for key, method in METHODS:
            out[key] = one_method(args, secret, meta, method, scopes[key])
        out["wrong_secret"] = wrong_secret(args, secret, meta)
    except (Failure, OAuthError, requests.RequestException, ValueError, KeyError) as e:
        # Never echo the secret, even if some message carried it.
        print(f"error: {e}".replace(secret, "[client secret]"), file=sys.stderr)
        return 1
    text = json.dumps(out, indent=2, sort_keys=True)
    if secret in text:
        print("error: the summary would contain the client secret; not printed", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
