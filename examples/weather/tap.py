"""Daily Seattle weather from the example source API, one record per day.

Params (all optional):
  since       first date to fetch, YYYY-MM-DD, inclusive
  until       first date not to fetch, YYYY-MM-DD, exclusive
  source_url  where the source API listens (default http://127.0.0.1:8765)

Standard library only, so it runs on any Python 3 with nothing installed.
"""

import json
import os
import urllib.parse
import urllib.request

DEFAULT_SOURCE_URL = "http://127.0.0.1:8765"
PAGE_SIZE = 200


def param(name):
    # A param sent as null arrives as an empty string; treat it as not given.
    return os.environ.get("TAP_PARAM_" + name) or None


def fetch():
    base = (param("source_url") or DEFAULT_SOURCE_URL).rstrip("/")
    query = {"page_size": PAGE_SIZE}
    for name in ("since", "until"):
        if param(name):
            query[name] = param(name)

    page = 1
    while page is not None:
        query["page"] = page
        url = base + "/observations?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        print("page %d: %d days of %d" % (page, len(body["observations"]), body["total"]))
        yield from body["observations"]
        page = body["nextPage"]
