#!/usr/bin/env python3
"""A stand-in for EKS's IAM authenticator, for the test control plane of scripts/k8s.sh.

kube-apiserver sends it each bearer token it does not know (a token webhook). An EKS token (k8s-aws-v1. followed by
a base64url presigned sts:GetCallerIdentity URL) authenticates as the user "eks:ACCESS_KEY_ID", the access key that
signed it, so tests can give different AWS identities different RBAC. Unlike EKS it does not ask STS whether the
signature is valid: it is only ever reachable from loopback, by the test API server.
Usage: eks-token-webhook.py PORT
"""
import base64
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

PREFIX = "k8s-aws-v1."


def user_of(token):
    if not token.startswith(PREFIX):
        return None
    body = token[len(PREFIX):]
    try:
        url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except ValueError:
        return None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    if query.get("Action") != ["GetCallerIdentity"] or "X-Amz-Credential" not in query:
        return None
    return "eks:" + query["X-Amz-Credential"][0].split("/")[0]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = user_of(review.get("spec", {}).get("token", ""))
        review["status"] = {"authenticated": True, "user": {"username": user, "groups": []}} if user else {
            "authenticated": False}
        answer = json.dumps(review).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, fmt, *args):
        pass  # tokens would be in the request log of a noisier server; this one logs nothing


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
