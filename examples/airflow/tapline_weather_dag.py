"""Airflow DAG: one tapline run per day, each loading exactly that day's window.

Airflow renders the run's dates into `params`; tapline hands them to the tap as
TAP_PARAM_since and TAP_PARAM_until, so a backfill of any date range is just Airflow's own
`airflow dags backfill -s 2015-01-01 -e 2015-01-31 tapline_weather`. The task then polls the
load's rollup and fails when the load fails, so Airflow's retries and alerts apply.

Setup (see docs/airflow.md):
  - a tapline server Airflow's workers can reach, with the `weather` tap and pipeline saved
    (`npm run example` shows how; `tapline tap add` / `tapline pipeline add` do it by hand);
  - TAPLINE_URL (default http://127.0.0.1:8080) and, when keys are on, TAPLINE_API_KEY in the
    worker's environment (or Airflow Variables of the same names).

Only the standard library is used for HTTP, so the DAG needs no provider package.
"""

import json
import os
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException
from airflow.models import Variable
from airflow.operators.python import PythonOperator

POLL_SECONDS = 5
LOAD_TIMEOUT_SECONDS = 2 * 3600


def setting(name, default=None):
    return os.environ.get(name) or Variable.get(name, default_var=default)


def call(method, path, body=None):
    url = setting("TAPLINE_URL", "http://127.0.0.1:8080").rstrip("/") + "/api/v1" + path
    headers = {"content-type": "application/json"}
    api_key = setting("TAPLINE_API_KEY")
    if api_key:
        headers["x-api-key"] = api_key
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        # A run answers once the script has finished; give slow sources time.
        with urllib.request.urlopen(request, timeout=3600) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        raise AirflowException("tapline %s %s answered %s: %s" % (method, path, error.code, detail))


def run_tap(tap, params):
    answer = call("POST", "/tap/run", {"name": tap, "mode": "run", "params": params})
    print("run %s: %s, %s records" % (answer["runId"], answer["status"], answer["recordCount"]))
    if answer["status"] != "success":
        raise AirflowException("tap %s failed: %s" % (tap, answer.get("error")))
    if not answer["persisted"]:
        # no_records is a quiet day, not a failure.
        print("nothing to load: %s" % answer.get("persistedReason"))
        return answer["runId"]

    token = answer["publisherToken"]
    deadline = time.time() + LOAD_TIMEOUT_SECONDS
    while True:
        status = call("GET", "/pipeline/status?publishertoken=%s&withrollup=true" % token)
        rollup = status["rollup"]
        if rollup["allDone"]:
            break
        if time.time() > deadline:
            raise AirflowException("load %s still %s after the timeout" % (token, rollup["status"]))
        time.sleep(POLL_SECONDS)

    for job in rollup["jobs"]:
        print("job %s: %s, %s records" % (job["pipelineToken"], job["status"], job["recordCount"]))
    if rollup["status"] not in ("success", "warning"):
        errors = [job["lastError"]["description"] for job in rollup["jobs"] if job["lastError"]]
        raise AirflowException("load %s ended in %s: %s" % (token, rollup["status"], errors))
    return answer["runId"]


with DAG(
    dag_id="tapline_weather",
    start_date=datetime(2015, 1, 1),
    end_date=datetime(2015, 12, 31),
    schedule="@daily",
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["tapline"],
) as dag:
    PythonOperator(
        task_id="run_weather_tap",
        python_callable=run_tap,
        # op_kwargs is templated: Airflow renders the window of this DAG run. On Airflow 2.2+
        # `{{ data_interval_end | ds }}` is the same value as the older `{{ next_ds }}`.
        op_kwargs={
            "tap": "weather",
            "params": {"since": "{{ ds }}", "until": "{{ next_ds }}"},
        },
    )
