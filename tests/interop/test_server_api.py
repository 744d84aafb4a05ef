#!/usr/bin/env python3
"""test_server_api.py -- the `loupe dashboard` REST API against a real server on
a loopback port with a real SQLite storage: optuna-dashboard 0.20's exact
responses for the fixture database (tests/data/fixtures/README.md section 2.1),
every endpoint and its error responses, artifacts, live updates (SSE), trial JSON kept
compressed (--uncompressed-mb 0) served byte for byte, and the
security checks. Standard library only; run by test_server_api.sh.

Usage: test_server_api.py LOUPE_BIN FIXTURE_DB WORKDIR SERVER_DATA_DIR
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

LOUPE, FIXTURE, WORK, DATA = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ART_ID = "e3e70682-c209-4cac-a29f-6fbed82c07cd"

# ---------------------------------------------------------------- expected (fixture README 2.1)

EXPECTED_STUDIES_UPSTREAM = (
    '{"study_summaries": [{"study_id": 1, "study_name": "Human-in-the-loop Optimization", '
    '"directions": ["minimize"], "user_attrs": [], "is_preferential": false}]}'
)
EXPECTED_TRIAL_9 = (
    '{"trial_id": 10, "study_id": 1, "number": 9, "state": "Running", "params": [{"name": "r", '
    '"param_internal_value": 241.0, "param_external_value": "241", "param_external_pytyp": "<class \'int\'>", '
    '"distribution": {"type": "IntDistribution", "low": 0, "high": 255, "step": 1, "log": false}}, '
    '{"name": "g", "param_internal_value": 133.0, "param_external_value": "133", "param_external_pytyp": '
    '"<class \'int\'>", "distribution": {"type": "IntDistribution", "low": 0, "high": 255, "step": 1, "log": '
    'false}}, {"name": "b", "param_internal_value": 106.0, "param_external_value": "106", '
    '"param_external_pytyp": "<class \'int\'>", "distribution": {"type": "IntDistribution", "low": 0, '
    '"high": 255, "step": 1, "log": false}}], "fixed_params": [], "user_attrs": [], "note": {"version": 1, '
    '"body": "## Trial 9\\n\\nr=241, g=133, b=106\\n\\n![color](/artifacts/1/10/'
    'e3e70682-c209-4cac-a29f-6fbed82c07cd)\\n"}, "artifacts": [{"artifact_id": '
    '"e3e70682-c209-4cac-a29f-6fbed82c07cd", "filename": "color.png", "mimetype": "image/png", "encoding": '
    'null}], "constraints": [], "intermediate_values": [], "datetime_start": "2026-11-28T02:28:49.831907"}'
)
INT_DIST = '{"type": "IntDistribution", "low": 0, "high": 255, "step": 1, "log": false}'
EXPECTED_SPACE = ('[{"name": "b", "distribution": %s}, {"name": "g", "distribution": %s}, '
                  '{"name": "r", "distribution": %s}]' % (INT_DIST, INT_DIST, INT_DIST))
EXPECTED_FORM = ('{"output_type": "objective", "widgets": [{"type": "choice", "description": '
                 '"Please input your score!", "choices": ["Good \\ud83d\\udc4d", "So-so\\ud83d\\udc4c", '
                 '"Bad \\ud83d\\udc4e"], "values": [-1, 0, 1], "user_attr_key": null}]}')
EXPECTED_CSV = (
    "Number,State,Looks like sunset color?,Param b,Param g,Param r\r\n"
    "0,COMPLETE,1.0,154,183,140\r\n1,COMPLETE,0.0,165,108,139\r\n2,COMPLETE,1.0,246,228,112\r\n"
    "3,COMPLETE,1.0,135,202,98\r\n4,COMPLETE,0.0,18,236,145\r\n5,COMPLETE,1.0,213,5,22\r\n"
    "6,COMPLETE,1.0,250,222,199\r\n7,COMPLETE,-1.0,199,118,204\r\n8,FAIL,,36,163,30\r\n"
    "9,RUNNING,,106,133,241\r\n10,RUNNING,,116,198,67\r\n11,RUNNING,,158,4,145\r\n"
)

# ---------------------------------------------------------------- harness


class Server:
    """A `loupe dashboard` process on a free loopback port, stopped by PID."""

    def __init__(self, db, *args, env=None):
        self.db = db
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([LOUPE, "dashboard", "sqlite:///" + db, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, "server.log"), "ab"),
                                     env=e, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("Listening on http://"):
            raise AssertionError("server did not start: %r (see %s/server.log)" % (line, WORK))
        hostport = line.split("//", 1)[1].split("/", 1)[0]
        self.port = int(hostport.rsplit(":", 1)[1])
        self.open_line = self.proc.stdout.readline()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        assert rc == 0, "server exited with %d on SIGTERM (see %s/server.log)" % (rc, WORK)

    def req(self, method, path, body=None, headers=None, raw=None, host=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {"Host": host if host is not None else "127.0.0.1:%d" % self.port}
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if data is not None:
            if isinstance(data, str):
                data = data.encode()
            c.putheader("Content-Length", str(len(data)))
        c.endheaders(data)
        r = c.getresponse()
        payload = r.read()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
        c.close()
        return out

    def json(self, method, path, body=None, expect=200, **kw):
        st, hd, payload = self.req(method, path, body, **kw)
        assert st == expect, "%s %s: status %d, expected %d: %r" % (method, path, st, expect, payload[:500])
        if st == 204:
            assert payload == b"", "204 with a body: %r" % payload
            return None
        assert hd.get("content-type", "").startswith("application/json"), hd
        return json.loads(payload)

    def reason(self, method, path, body=None, expect=400, contains=None, **kw):
        j = self.json(method, path, body, expect=expect, **kw)
        assert isinstance(j, dict) and "reason" in j, j
        if contains:
            assert contains in j["reason"], "reason %r lacks %r" % (j["reason"], contains)
        return j


def fresh_db(name):
    path = os.path.join(WORK, name)
    shutil.copyfile(FIXTURE, path)
    return path


def eq(a, b, what=""):
    assert a == b, "%s:\n  got      %r\n  expected %r" % (what, a, b)


# ---------------------------------------------------------------- tests

def test_fixture_exact(s):
    st, hd, body = s.req("GET", "/api/studies")
    eq(st, 200, "status")
    text = body.decode()
    # upstream's fields in upstream's order and formatting, then loupe's additions
    prefix = EXPECTED_STUDIES_UPSTREAM[:-3]
    assert text.startswith(prefix), "study list differs from upstream:\n%s" % text
    j = json.loads(text)["study_summaries"][0]
    eq(j["trial_counts"], {"running": 3, "complete": 8, "pruned": 0, "fail": 1, "waiting": 0}, "trial_counts")
    eq(j["best_values"], [-1.0], "best_values")
    eq(j["metric_names"], ["Looks like sunset color?"], "metric_names")

    st, hd, body = s.req("GET", "/api/studies/1?after=9")
    eq(st, 200, "status")
    text = body.decode()
    d = json.loads(text)
    eq([t["number"] for t in d["trials"]], [9, 10, 11], "after=9 numbers")
    first = text[text.index('"trials": [') + len('"trials": ['):]
    assert first.startswith(EXPECTED_TRIAL_9), "trial 9 differs:\n%s" % first[:len(EXPECTED_TRIAL_9) + 50]
    # top-level fields, exact text where upstream's is given
    keys = list(d.keys())
    eq(keys, ["name", "directions", "user_attrs", "artifacts", "trials", "best_trials",
              "intersection_search_space", "union_search_space", "union_user_attrs",
              "has_intermediate_values", "note", "is_preferential", "objective_names", "form_widgets",
              "feedback_component_type", "plotly_graph_objects"], "field order")
    assert '"name": "Human-in-the-loop Optimization", "directions": ["minimize"], "user_attrs": [], ' \
           '"artifacts": [], "trials": [' in text
    assert ('"intersection_search_space": %s, "union_search_space": %s, "union_user_attrs": [], '
            '"has_intermediate_values": false, "note": {"version": 0, "body": ""}, "is_preferential": false, '
            '"objective_names": ["Looks like sunset color?"], "form_widgets": %s, '
            '"feedback_component_type": {"output_type": "note"}, "plotly_graph_objects": []}'
            % (EXPECTED_SPACE, EXPECTED_SPACE, EXPECTED_FORM)) in text, text[-1200:]
    eq(len(d["best_trials"]), 1, "best trials")
    b = d["best_trials"][0]
    eq((b["number"], b["trial_id"], b["state"], b["values"]), (7, 8, "Complete", [-1.0]), "best trial")
    assert "values" not in d["trials"][0] and "datetime_complete" not in d["trials"][0]

    for q in ("", "?after=0"):
        d = s.json("GET", "/api/studies/1" + q)
        eq([t["number"] for t in d["trials"]], list(range(12)), "all trials " + q)
        t0 = d["trials"][0]
        eq((t0["values"], t0["datetime_start"], t0["datetime_complete"]),
           ([1.0], "2026-11-28T02:28:49.591161", "2026-11-28T02:28:49.618789"), "trial 0")
        t8 = d["trials"][8]
        assert t8["state"] == "Fail" and "values" not in t8 and "datetime_complete" in t8, t8
    eq(s.json("GET", "/api/studies/1?after=99")["trials"], [], "after beyond the end")

    st, hd, body = s.req("GET", "/csv/1")
    eq(st, 200, "csv status")
    eq(body.decode(), EXPECTED_CSV, "csv body")
    eq(len(body), 373, "csv size")
    eq(hd["content-disposition"], "attachment; filename=Human-in-the-loop-Optimization.csv", "disposition")
    eq(hd["content-type"], "text/csv; charset=utf-8", "csv content type (upstream's 'chatset' fixed)")

    meta = s.json("GET", "/api/meta")
    eq(list(meta)[:4], ["artifact_is_available", "llm_is_available", "plotlypy_is_available", "allow_unsafe"], "meta")
    eq(meta["artifact_is_available"], False, "no artifact dir")


def test_hitl_actions(s):
    s.json("POST", "/api/trials/10/tell", {"state": "Complete", "values": [-1]}, expect=204)
    d = s.json("GET", "/api/studies/1?after=9")
    t9 = d["trials"][0]
    eq((t9["state"], t9["values"]), ("Complete", [-1.0]), "trial 9 told")
    eq([b["number"] for b in d["best_trials"]], [7], "tie keeps the lower number")
    s.json("POST", "/api/trials/11/tell", {"state": "Fail"}, expect=204)
    eq(s.json("GET", "/api/studies/1?after=10")["trials"][0]["state"], "Fail", "trial 10 failed")
    # notes: version = stored + 1
    s.json("PUT", "/api/studies/1/10/note", {"version": 2, "body": "second"}, expect=204)
    j = s.json("PUT", "/api/studies/1/10/note", {"version": 2, "body": "stale"}, expect=409)
    eq(j, {"reason": "The text you are editing has changed. Please copy your edits and refresh the page.",
           "note": {"version": 2, "body": "second"}}, "409 note")
    j = s.json("PUT", "/api/studies/1/10/note", {"version": 0, "body": "x"}, expect=409)
    eq(j["note"]["version"], 2, "version 0 is never current")
    s.json("PUT", "/api/studies/1/note", {"version": 1, "body": "# study\n" + "x" * 5000}, expect=204)
    d = s.json("GET", "/api/studies/1?after=12")
    eq(d["note"], {"version": 1, "body": "# study\n" + "x" * 5000}, "study note (3 chunks)")
    eq(s.json("GET", "/api/studies/1?after=9")["trials"][0]["note"], {"version": 2, "body": "second"}, "trial note")
    # the second rater: 409 with the stored outcome
    j = s.json("POST", "/api/trials/10/tell", {"state": "Complete", "values": [1]}, expect=409)
    assert "already finished" in j["reason"] and "[-1.0]" in j["reason"], j["reason"]
    eq((j["trial"]["number"], j["trial"]["values"]), (9, [-1.0]), "stored rating returned")
    j = s.json("POST", "/api/trials/1/tell", {"state": "Complete", "values": [0]}, expect=409)
    # user attrs on the last running trial, then on a finished one
    s.json("POST", "/api/trials/12/user-attrs", {"user_attrs": {"hitl/choice": 1, "hitl/text": "nice", "l": [1, 2]}},
           expect=204)
    t = s.json("GET", "/api/studies/1?after=11")["trials"][0]
    eq(t["user_attrs"], [{"key": "hitl/choice", "value": "1"}, {"key": "hitl/text", "value": "nice"},
                         {"key": "l", "value": "[1, 2]"}], "user attrs")
    d = s.json("GET", "/api/studies/1?after=12")
    eq(d["union_user_attrs"], [{"key": "hitl/choice", "sortable": True}, {"key": "hitl/text", "sortable": False},
                               {"key": "l", "sortable": False}], "union_user_attrs sorted")
    s.json("POST", "/api/trials/1/user-attrs", {"user_attrs": {"a": 1}}, expect=409)


def test_errors(s):
    r = s.reason("GET", "/api/studies/999", expect=404)
    eq(r, {"reason": "study_id=999 is not found"}, "404 study")
    s.reason("GET", "/api/studies/1?after=-1", expect=400, contains="`after` should be larger or equal 0.")
    s.reason("GET", "/api/studies/1?after=abc", expect=400, contains="integer")
    s.reason("GET", "/api/studies/abc", expect=404)
    s.reason("GET", "/api/nothing", expect=404)
    r = s.reason("DELETE", "/api/meta", expect=405)
    # create
    eq(s.reason("POST", "/api/studies", {"study_name": "x"}), {"reason": "You need to set study_name and direction"}, "")
    s.reason("POST", "/api/studies", {"study_name": "x", "directions": ["up"]})
    s.reason("POST", "/api/studies", {"study_name": 5, "directions": ["minimize"]})
    s.reason("POST", "/api/studies", {"directions": ["minimize"]})
    s.reason("POST", "/api/studies", raw="[1, 2]", contains="JSON object")
    s.reason("POST", "/api/studies", raw="{bad json", contains="not valid JSON")
    s.reason("POST", "/api/studies", raw="", contains="empty")
    j = s.json("POST", "/api/studies", {"study_name": "new", "directions": ["Maximize", "minimize"]}, expect=201)
    summ = j["study_summary"]
    eq((summ["study_name"], summ["directions"], summ["user_attrs"], summ["is_preferential"]),
       ("new", ["maximize", "minimize"], [], False), "created")
    new_id = summ["study_id"]
    eq(s.reason("POST", "/api/studies", {"study_name": "new", "directions": ["minimize"]}),
       {"reason": "Study name already exists."}, "duplicate")
    eq(len(s.json("GET", "/api/studies")["study_summaries"]), 2, "listed")
    # rename: a bare summary, a new id, the old one gone
    s.reason("POST", "/api/studies/%d/rename" % new_id, {})
    s.reason("POST", "/api/studies/999/rename", {"study_name": "z"}, expect=404)
    s.reason("POST", "/api/studies/%d/rename" % new_id, {"study_name": "Human-in-the-loop Optimization"},
             contains="already exists")
    j = s.json("POST", "/api/studies/%d/rename" % new_id, {"study_name": "renamed"}, expect=201)
    eq((j["study_name"], j["directions"]), ("renamed", ["maximize", "minimize"]), "renamed")
    s.reason("GET", "/api/studies/%d" % new_id, expect=404)
    # tell errors
    eq(s.reason("POST", "/api/trials/12/tell", {}), {"reason": "state must be specified."}, "")
    for st in ("Pruned", "Running", "Waiting", "bogus", 3):
        eq(s.reason("POST", "/api/trials/12/tell", {"state": st}),
           {"reason": "state must be either 'Complete' or 'Fail'."}, "state %r" % st)
    eq(s.reason("POST", "/api/trials/12/tell", {"state": "complete"}),
       {"reason": "values attribute is required when state is 'Complete'."}, "")
    for vs in (["a"], "12", [None], [{}]):
        eq(s.reason("POST", "/api/trials/12/tell", {"state": "Complete", "values": vs}),
           {"reason": "values attribute must be an array of numbers"}, "values %r" % vs)
    s.reason("POST", "/api/trials/12/tell", {"state": "Complete", "values": [1, 2]}, contains="one value per objective")
    s.reason("POST", "/api/trials/12/tell", {"state": "Complete", "values": ["nan"]})
    s.reason("POST", "/api/trials/999/tell", {"state": "Fail"}, expect=404, contains="trial_id=999")
    # user attrs errors
    eq(s.reason("POST", "/api/trials/12/user-attrs", {}), {"reason": "user_attrs must be specified."}, "")
    s.reason("POST", "/api/trials/12/user-attrs", {"user_attrs": {}})
    s.reason("POST", "/api/trials/12/user-attrs", {"user_attrs": [1]})
    s.reason("POST", "/api/trials/999/user-attrs", {"user_attrs": {"a": 1}}, expect=404)
    # notes
    eq(s.reason("PUT", "/api/studies/1/note", {"body": "x"}), {"reason": "Invalid request."}, "")
    s.reason("PUT", "/api/studies/1/note", {"version": "1", "body": "x"})
    s.reason("PUT", "/api/studies/1/999/note", {"version": 1, "body": "x"}, expect=404)
    s.reason("PUT", "/api/studies/999/note", {"version": 1, "body": "x"}, expect=404)
    # importances, plots, llm, csv
    s.reason("GET", "/api/studies/999/param_importances", expect=404)
    s.reason("GET", "/api/studies/1/plot/contour", contains="not available")
    s.reason("GET", "/api/studies/1/plot/bogus", expect=404, contains="plot_type=bogus is not supported.")
    s.reason("POST", "/api/llm/trial_filter_query", {"user_query": "x"}, contains="No access to the LLM provider.")
    s.reason("GET", "/csv/999", expect=404)
    s.reason("GET", "/csv/1?trial_ids=1,x", contains="Invalid trial_ids format")
    s.reason("GET", "/csv/1?trial_ids=500", expect=404, contains="all specified trial_ids is not found")
    st, hd, body = s.req("GET", "/csv/1?trial_ids=0,%207")
    eq(body.decode().split("\r\n")[1:3], ["0,COMPLETE,1.0,154,183,140", "7,COMPLETE,-1.0,199,118,204"], "filtered csv")
    # delete
    s.json("DELETE", "/api/studies/999", expect=404)
    st, _, _ = s.req("DELETE", "/api/studies/%d" % j["study_id"], raw='{"remove_associated_artifacts": false}')
    eq(st, 204, "delete")
    s.reason("GET", "/api/studies/%d" % j["study_id"], expect=404)
    # trailing slashes are ignored, as upstream strips them
    s.json("GET", "/api/studies/")


def test_importances(s):
    j = s.json("GET", "/api/studies/1/param_importances")
    imps = j["param_importances"]
    eq(len(imps), 1, "one objective")
    names = sorted(p["name"] for p in imps[0])
    eq(names, ["b", "g", "r"], "params")
    # Optuna 5.0's PedAnovaImportanceEvaluator on this file, as optuna-dashboard calls it
    upstream = {"g": 0.4129432579859787, "r": 0.35857615965740636, "b": 0.22848058235661498}
    for p in imps[0]:
        assert abs(p["importance"] - upstream[p["name"]]) < 1e-12, (p, upstream)
    assert abs(sum(p["importance"] for p in imps[0]) - 1) < 1e-9, imps
    assert all(p["distribution"] == "IntDistribution" for p in imps[0])
    assert [p["importance"] for p in imps[0]] == sorted((p["importance"] for p in imps[0]), reverse=True)
    eq(s.json("GET", "/api/studies/1/param_importances"), j, "cached")


def test_importances_vs_optuna():
    """PED-ANOVA against Optuna 5.0's own numbers (tests/data/server/make_ped_anova.py):
    float, log float, log int, stepped int and float, categorical, a conditional
    param, and a maximized second objective."""
    db = os.path.join(WORK, "ped_anova.db")
    shutil.copyfile(os.path.join(DATA, "ped_anova.db"), db)
    with open(os.path.join(DATA, "ped_anova_expected.json")) as f:
        expected = json.load(f)
    s = Server(db, "--quiet")
    try:
        got = s.json("GET", "/api/studies/1/param_importances")["param_importances"]
    finally:
        s.stop()
    eq(len(got), 2, "objectives")
    for obj, (g, e) in enumerate(zip(got, expected)):
        eq(sorted(p["name"] for p in g), sorted(e), "params of objective %d" % obj)
        for p in g:
            assert abs(p["importance"] - e[p["name"]]) < 1e-12, (obj, p, e[p["name"]])
        imps = [p["importance"] for p in g]
        eq(imps, sorted(imps, reverse=True), "sorted")
    kinds = {p["name"]: p["distribution"] for p in got[0]}
    eq((kinds["opt"], kinds["n"], kinds["x"]), ("CategoricalDistribution", "IntDistribution", "FloatDistribution"), "")


def test_preferential(s, db):
    con = sqlite3.connect(db)
    con.execute("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES "
                "(1, 'preference:is_preferential', 'true')")
    con.commit()
    con.close()
    deadline = time.time() + 5
    while not s.json("GET", "/api/studies/1?after=12")["is_preferential"]:
        assert time.time() < deadline, "the watcher did not see the external write"
        time.sleep(0.05)
    s.reason("POST", "/api/studies/1/preference", {"mode": "ChooseWorst", "candidates": [9, 10]},
             contains="`clicked` should be specified.")
    s.reason("POST", "/api/studies/1/preference", {"mode": "Best", "candidates": [9, 10], "clicked": 9},
             contains="`mode` should be 'ChooseWorst'.")
    s.reason("POST", "/api/studies/1/preference", {"mode": "ChooseWorst", "candidates": ["a"], "clicked": 9})
    s.reason("POST", "/api/studies/1/preference", {"mode": "ChooseWorst", "candidates": [9, 99], "clicked": 9},
             contains="does not exist")
    s.json("POST", "/api/studies/1/preference", {"mode": "ChooseWorst", "candidates": [9, 10, 11], "clicked": 10},
           expect=204)
    d = s.json("GET", "/api/studies/1")
    eq(d["preferences"], [[9, 10], [11, 10]], "preferences")
    h = d["preference_history"]
    eq(len(h), 1, "history")
    eq((h[0]["history"]["candidates"], h[0]["history"]["clicked"], h[0]["is_removed"]), ([9, 10, 11], 10, False), "")
    # number 9 was told, 10 failed (test_hitl_actions); 11 was running: COMPLETE with 0
    eq([d["trials"][n]["state"] for n in (9, 10, 11)], ["Complete", "Fail", "Complete"], "completed with 0")
    eq(d["trials"][11]["values"], [0.0], "zero value")
    eq(sorted(t["number"] for t in d["best_trials"]), [9, 11], "preferential best")
    hid = h[0]["history"]["id"]
    s.json("DELETE", "/api/studies/1/preference/%s" % hid, expect=204)
    d = s.json("GET", "/api/studies/1?after=12")
    eq((d["preferences"], d["preference_history"][0]["is_removed"]), ([], True), "removed")
    s.json("POST", "/api/studies/1/preference/%s" % hid, expect=204)
    eq(s.json("GET", "/api/studies/1?after=12")["preferences"], [[9, 10], [11, 10]], "restored")
    s.reason("DELETE", "/api/studies/1/preference/nope", expect=404, contains="history_id=nope is not found")
    s.json("POST", "/api/studies/1/12/skip", expect=204)
    eq(s.json("GET", "/api/studies/1?after=12")["skipped_trial_numbers"], [11], "skipped")
    s.reason("POST", "/api/studies/1/999/skip", expect=404)
    s.json("PUT", "/api/studies/1/preference_feedback_component", {"output_type": "artifact",
                                                                    "artifact_key": "img"}, expect=204)
    eq(s.json("GET", "/api/studies/1?after=12")["feedback_component_type"],
       {"output_type": "artifact", "artifact_key": "img"}, "component")
    s.reason("PUT", "/api/studies/1/preference_feedback_component", {"output_type": "video"})


def test_sealed_blocks(db):
    """--uncompressed-mb 0: finished trials' JSON kept compressed is served byte for byte as a
    server that keeps it plain serves it (full detail, the compact feed, every ?after= around
    block edges)."""
    con = sqlite3.connect(db)
    dist = '{"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 0, "high": 255}}'
    (pid,) = con.execute("SELECT max(param_id) FROM trial_params").fetchone()
    (vid,) = con.execute("SELECT max(trial_value_id) FROM trial_values").fetchone()
    for i in range(300):
        tid, num = 13 + i, 12 + i
        con.execute("INSERT INTO trials VALUES (?, ?, 1, 'COMPLETE', ?, ?)",
                    (tid, num, "2026-11-28 03:%02d:%02d.000000" % (i // 60, i % 60),
                     "2026-11-28 03:%02d:%02d.500000" % (i // 60, i % 60)))
        for k, name in enumerate("rgb"):
            pid += 1
            con.execute("INSERT INTO trial_params VALUES (?, ?, ?, ?, ?)", (pid, tid, name, float((i * (k + 3)) % 256), dist))
        vid += 1
        con.execute("INSERT INTO trial_values VALUES (?, ?, 0, ?, 'FINITE')", (vid, tid, -2.0 if num == 100 else float(i % 3)))
    con.commit()
    con.close()
    plain, sealed = Server(db, "--quiet"), Server(db, "--quiet", "--uncompressed-mb", "0")
    try:
        paths = ["/api/studies", "/api/studies/1", "/api/studies/1/compact"] + ["/api/studies/1?after=%d" % k for k in
                                                    (1, 63, 64, 65, 127, 128, 129, 200, 255, 256, 311, 312)]
        for p in paths:
            a, b = plain.req("GET", p), sealed.req("GET", p)
            eq((b[0], b[1].get("content-length")), (a[0], a[1].get("content-length")), p)
            assert a[2] == b[2], "%s differs between plain and sealed trial JSON" % p
        d = json.loads(sealed.req("GET", "/api/studies/1")[2])
        eq((len(d["trials"]), d["best_trials"][0]["number"]), (312, 100), "trials and best trial")
        # blocks 1 and 2 (numbers 64..191) are sealed; block 0 holds the fixture's running trials
        eq(d["trials"][150]["params"][0]["param_external_value"], "158", "a sealed trial's param")
        c = json.loads(sealed.req("GET", "/api/studies/1/compact")[2])["compact_trials"]
        eq(len(c["rows"]), 312, "compact rows of a sealed study")
    finally:
        plain.stop()
        sealed.stop()


def test_artifacts(db):
    art = os.path.join(WORK, "artifacts")
    os.makedirs(art, exist_ok=True)
    s = Server(db, "--artifact-dir", art, "--quiet")
    try:
        eq(s.json("GET", "/api/meta")["artifact_is_available"], True, "meta")
        # metadata without a blob: 404 (upstream: 500)
        s.reason("GET", "/artifacts/1/10/" + ART_ID, expect=404, contains="missing")
        s.reason("GET", "/artifacts/1/11/" + ART_ID, expect=404)
        s.reason("GET", "/artifacts/1/10/1234", expect=404)
        png = bytes(range(256)) * 40
        uri = "data:image/png;base64," + base64.b64encode(png).decode()
        j = s.json("POST", "/api/artifacts/1/12", {"file": uri, "filename": "pic.png"}, expect=201)
        aid = j["artifact_id"]
        eq(j["artifacts"], [{"artifact_id": aid, "filename": "pic.png", "mimetype": "image/png", "encoding": None}], "")
        st, hd, body = s.req("GET", "/artifacts/1/12/" + aid)
        eq((st, body, hd["content-type"]), (200, png, "image/png"), "download")
        assert "sandbox" in hd["content-security-policy"] and hd["etag"] and "max-age" in hd["cache-control"], hd
        st, hd2, body = s.req("GET", "/artifacts/1/12/" + aid, headers={"Range": "bytes=10-19"})
        eq((st, body, hd2["content-range"]), (206, png[10:20], "bytes 10-19/%d" % len(png)), "range")
        st, _, body = s.req("GET", "/artifacts/1/12/" + aid, headers={"Range": "bytes=-5"})
        eq((st, body), (206, png[-5:]), "suffix range")
        st, hd3, _ = s.req("GET", "/artifacts/1/12/" + aid, headers={"Range": "bytes=999999-"})
        eq((st, hd3.get("content-range")), (416, "bytes */%d" % len(png)), "unsatisfiable")
        st, _, body = s.req("GET", "/artifacts/1/12/" + aid, headers={"If-None-Match": hd["etag"]})
        eq((st, body), (304, b""), "not modified")
        # raw upload of a gzip file: Content-Encoding (upstream: "Content-Encodings")
        j = s.json("POST", "/api/artifacts/1?filename=t.csv.gz", raw=b"\x1f\x8b\x08\x00rawbytes", expect=201)
        gid = j["artifact_id"]
        eq(j["artifacts"][-1]["encoding"], "gzip", "guessed encoding")
        st, hd, body = s.req("GET", "/artifacts/1/" + gid)
        eq((st, hd["content-type"], hd["content-encoding"], body), (200, "text/csv", "gzip", b"\x1f\x8b\x08\x00rawbytes"), "")
        eq(s.json("GET", "/api/studies/1?after=12")["artifacts"][0]["artifact_id"], gid, "study artifact listed")
        # errors
        s.reason("POST", "/api/artifacts/1/12", {"filename": "x"}, contains="Please specify the 'file' key.")
        s.reason("POST", "/api/artifacts/1/12", {"file": "data:x;base64,@@@", "filename": "x"}, contains="base64")
        s.reason("POST", "/api/artifacts/1/12", {"file": "http://x", "filename": "x"}, contains="data URI")
        s.reason("POST", "/api/artifacts/1/1", {"file": uri, "filename": "x"}, contains="The trial is already finished.")
        s.reason("POST", "/api/artifacts/1/999", {"file": uri, "filename": "x"}, contains="Invalid study_id or trial_id")
        s.reason("POST", "/api/artifacts/999", {"file": uri, "filename": "x"}, expect=404)
        # delete
        s.json("DELETE", "/api/artifacts/1/12/" + aid, expect=204)
        s.reason("GET", "/artifacts/1/12/" + aid, expect=404)
        assert not os.path.exists(os.path.join(art, aid)), "blob removed"
        s.reason("DELETE", "/api/artifacts/1/12/" + aid, expect=404, contains="Artifact is not found.")
        s.json("DELETE", "/api/artifacts/1/" + gid, expect=204)
        # traversal attempts never leave the artifact directory
        with open(os.path.join(WORK, "secret.txt"), "w") as f:
            f.write("TOPSECRET")
        for p in ("/artifacts/1/../secret.txt", "/artifacts/1/..%2Fsecret.txt", "/artifacts/1/%2e%2e/secret.txt",
                  "/artifacts/1/12/..%2f..%2fsecret.txt", "/artifacts/1//etc/passwd", "/artifacts/1/12/%2Fetc%2Fpasswd",
                  "/static/../secret.txt", "/static/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fetc/passwd",
                  "/api/artifacts/1/..%2F..%2Fsecret.txt"):
            for m in ("GET", "DELETE"):
                st, _, body = s.req(m, p)
                assert st in (403, 404, 405), "%s %s -> %d %r" % (m, p, st, body[:100])
                assert b"TOPSECRET" not in body and b"root:" not in body, (m, p)
    finally:
        s.stop()
    s = Server(db, "--quiet")
    try:
        eq(s.reason("GET", "/artifacts/1/10/" + ART_ID), {"reason": "Cannot access to the artifacts."}, "no store")
        s.reason("POST", "/api/artifacts/1/12", {"file": "data:,", "filename": "x"}, contains="Cannot access")
    finally:
        s.stop()


def test_security(db):
    s = Server(db, "--quiet")
    try:
        s.reason("POST", "/api/studies", {"study_name": "x", "directions": ["minimize"]}, expect=403,
                 headers={"Origin": "http://evil.example"}, contains="Cross-site")
        s.reason("POST", "/api/studies", {"study_name": "x", "directions": ["minimize"]}, expect=403,
                 headers={"Origin": "null"})
        s.reason("POST", "/api/trials/12/tell", {"state": "Fail"}, expect=403, headers={"Sec-Fetch-Site": "cross-site"})
        s.json("POST", "/api/studies", {"study_name": "same-origin", "directions": ["minimize"]}, expect=201,
               headers={"Origin": "http://127.0.0.1:%d" % s.port})
        for host in ("evil.example", "evil.example:%d" % s.port, "127.0.0.1.evil.example", "", "a b"):
            st, _, body = s.req("GET", "/api/studies", host=host)
            eq(st, 403 if host.strip() and " " not in host else st, "host %r" % host)
            assert st in (400, 403), (host, st)
        for host in ("localhost:%d" % s.port, "[::1]:%d" % s.port, "127.0.0.2"):
            eq(s.req("GET", "/api/meta", host=host)[0], 200, "host %r" % host)
        # body limits: 413 from the headers alone, before any of the body is read
        sock = socket.create_connection(("127.0.0.1", s.port))
        sock.sendall(("POST /api/trials/12/user-attrs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                      "application/json\r\nContent-Length: %d\r\n\r\n" % (s.port, 2 << 20)).encode())
        sock.settimeout(10)
        answer = b""
        while b"exceeds" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 413") and b"exceeds" in answer, answer[:300]
        big = '{"user_attrs": {"a": "' + "x" * (1 << 20) + '"}}'
        try:
            st, _, _ = s.req("POST", "/api/trials/12/user-attrs", raw=big)
            eq(st, 413, "oversized body")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while the body was still being sent
        # CSP on pages, no-cache, base href
        st, hd, body = s.req("GET", "/dashboard/studies/1")
        eq(st, 200, "page")
        assert "default-src 'self'" in hd["content-security-policy"] and "'unsafe-eval'" not in hd["content-security-policy"]
        assert hd["x-frame-options"] == "DENY" and hd["cache-control"] == "no-cache"
        assert b'<base href="/">' in body, body[:300]
        st, hd, _ = s.req("GET", "/")
        eq((st, hd["location"]), (302, "/dashboard"), "root redirect")
    finally:
        s.stop()
    # read-only: every write refused, reads fine
    s = Server(db, "--quiet", "--read-only")
    try:
        eq(s.json("GET", "/api/meta")["read_only"], True, "meta read_only")
        for m, p, b in (("POST", "/api/studies", {"study_name": "y", "directions": ["minimize"]}),
                        ("POST", "/api/trials/12/tell", {"state": "Fail"}),
                        ("PUT", "/api/studies/1/note", {"version": 1, "body": "x"}),
                        ("DELETE", "/api/studies/1", None),
                        ("POST", "/api/studies/1/rename", {"study_name": "z"}),
                        ("POST", "/api/artifacts/1/12", {"file": "data:,", "filename": "x"})):
            s.reason(m, p, b, expect=403, contains="--read-only")
        s.json("GET", "/api/studies/1")
    finally:
        s.stop()
    # token: required everywhere, Bearer or the cookie set by ?token=
    s = Server(db, "--quiet", "--token", "s3cret-token-123", "--base-path", "/optuna")
    try:
        assert "?token=s3cret-token-123" in s.open_line, s.open_line
        s.reason("GET", "/optuna/api/meta", expect=401, contains="access token")
        s.reason("GET", "/optuna/api/meta", expect=401, headers={"Authorization": "Bearer wrong-token-123"})
        s.json("GET", "/optuna/api/meta", headers={"Authorization": "Bearer s3cret-token-123"})
        eq(s.req("GET", "/api/meta", headers={"Authorization": "Bearer s3cret-token-123"})[0], 404, "outside base")
        st, hd, _ = s.req("GET", "/optuna/dashboard?token=s3cret-token-123")
        eq((st, hd["location"]), (302, "/optuna/dashboard"), "token redirect")
        cookie = hd["set-cookie"].split(";")[0]
        assert "HttpOnly" in hd["set-cookie"] and "SameSite=Strict" in hd["set-cookie"], hd["set-cookie"]
        s.json("GET", "/optuna/api/studies", headers={"Cookie": cookie})
        st, hd, body = s.req("GET", "/optuna/dashboard", headers={"Cookie": cookie})
        assert st == 200 and b'<base href="/optuna/">' in body, (st, body[:200])
        eq(s.req("GET", "/optuna/dashboard?token=nope")[0], 401, "bad token page")
    finally:
        s.stop()


def sse_reader(s, path, events, stop):
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, s.port)).encode())
    sock.settimeout(0.2)
    buf = b""
    while not stop.is_set():
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            msg, buf = buf.split(b"\n\n", 1)
            ev = {}
            for line in msg.decode("utf-8", "replace").split("\n"):
                if line.startswith("event: "):
                    ev["event"] = line[7:]
                elif line.startswith("data: "):
                    ev["data"] = line[6:]
            if "event" in ev:
                ev["t"] = time.time()
                events.append(ev)
    sock.close()


def test_sse(db):
    s = Server(db, "--quiet")
    try:
        events, stop = [], threading.Event()
        th = threading.Thread(target=sse_reader, args=(s, "/api/events?study_id=1", events, stop), daemon=True)
        th.start()
        time.sleep(0.5)
        # a write by another process (the loupe CLI) reaches the subscriber
        t0 = time.time()
        subprocess.run([LOUPE, "tell", "--storage", "sqlite:///" + db, "--trial-number", "11", "--values", "0.5"],
                       check=True, capture_output=True)
        t_written = time.time()
        deadline = time.time() + 5
        while not any(e["event"] == "trials" for e in events) and time.time() < deadline:
            time.sleep(0.01)
        tr = [e for e in events if e["event"] == "trials"]
        assert tr, "no trials event (got %r)" % [e["event"] for e in events]
        d = json.loads(tr[0]["data"])
        eq((d["study_id"], [t["number"] for t in d["trials"]], d["trials"][0]["values"]), (1, [11], [0.5]), "event")
        # the event may even arrive before the CLI process has exited
        print("  SSE event %.0f ms after starting `loupe tell` (which ran %.0f ms)"
              % ((tr[0]["t"] - t0) * 1000, (t_written - t0) * 1000))
        assert tr[0]["t"] - t_written < 1.0
        deadline = time.time() + 3
        while not any(e["event"] == "studies" for e in events) and time.time() < deadline:
            time.sleep(0.01)
        st = [json.loads(e["data"]) for e in events if e["event"] == "studies"]
        assert st and st[-1]["study_summaries"][0]["trial_counts"]["complete"] == 9, "studies event"
        # a change of the best trial is a "study" event
        s.json("POST", "/api/trials/11/tell", {"state": "Complete", "values": [-5]}, expect=204)
        deadline = time.time() + 3
        while not any(e["event"] == "study" for e in events) and time.time() < deadline:
            time.sleep(0.01)
        sev = [json.loads(e["data"]) for e in events if e["event"] == "study"]
        assert sev and [b["number"] for b in sev[-1]["best_trials"]] == [10] and "trials" not in sev[-1], sev
        # our own write, and a note
        s.json("PUT", "/api/studies/1/11/note", {"version": 1, "body": "note via API"}, expect=204)
        deadline = time.time() + 3
        while time.time() < deadline and not any(
                e["event"] == "trials" and "note via API" in e.get("data", "") for e in events):
            time.sleep(0.01)
        assert any(e["event"] == "trials" and "note via API" in e["data"] for e in events), "note event"
        s.reason("GET", "/api/events?study_id=999", expect=404)
        s.reason("GET", "/api/events?study_id=x", expect=400)
        stop.set()
        th.join()
    finally:
        s.stop()


def main():
    os.makedirs(WORK, exist_ok=True)
    results = []

    def run(name, fn, *args):
        t = time.time()
        try:
            fn(*args)
            results.append((name, True))
            print("ok   %s (%.1fs)" % (name, time.time() - t))
        except Exception:
            results.append((name, False))
            print("FAIL %s\n%s" % (name, traceback.format_exc()))

    db = fresh_db("fixture.db")
    s = Server(db, "--quiet")
    try:
        run("fixture_exact", test_fixture_exact, s)
        run("importances", test_importances, s)
        run("hitl_actions", test_hitl_actions, s)
        run("errors", test_errors, s)
        run("preferential", test_preferential, s, db)
    finally:
        s.stop()
    run("importances_vs_optuna", test_importances_vs_optuna)
    run("artifacts", test_artifacts, fresh_db("artifacts.db"))
    run("security", test_security, fresh_db("security.db"))
    run("sse", test_sse, fresh_db("sse.db"))
    run("sealed_blocks", test_sealed_blocks, fresh_db("sealed.db"))
    failed = [n for n, ok in results if not ok]
    print("%d passed, %d failed%s" % (len(results) - len(failed), len(failed), (": " + ", ".join(failed)) if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
