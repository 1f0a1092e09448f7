"""Daily Seattle weather, fetching only the days after the last one it loaded.

The cursor lives in the tap's state: tapline passes the last committed state in TAP_STATE
(JSON) and keeps what this script leaves in the module-level TAP_STATE once the run's records
have loaded. A run that finds no new days returns nothing, and tapline reports no_records.

Params: source_url (default http://127.0.0.1:8765).
"""

import datetime
import json
import os
import urllib.parse
import urllib.request

DEFAULT_SOURCE_URL = "http://127.0.0.1:8765"
PAGE_SIZE = 200

TAP_STATE = json.loads(os.environ.get("TAP_STATE") or "{}")


def fetch():
    global TAP_STATE
    base = (os.environ.get("TAP_PARAM_source_url") or DEFAULT_SOURCE_URL).rstrip("/")
    last_date = TAP_STATE.get("last_date")
    query = {"page_size": PAGE_SIZE}
    if last_date:
        day_after = datetime.date.fromisoformat(last_date) + datetime.timedelta(days=1)
        query["since"] = day_after.isoformat()
    print("cursor: %s" % (last_date or "none, fetching everything"))

    newest = last_date
    page = 1
    while page is not None:
        query["page"] = page
        url = base + "/observations?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        for observation in body["observations"]:
            newest = max(newest or observation["date"], observation["date"])
            yield observation
        page = body["nextPage"]

    # Assigned only after every page was read: a run that fails midway keeps the old cursor.
    TAP_STATE = {"last_date": newest} if newest else {}
