#!/usr/bin/env python3
"""main.py -- the tutorial's generator in Python ("Human-in-the-loop Optimization
using Objective Form Widgets", optuna-dashboard's docs), for the Optuna 3.1 that
Debian packages (python3-optuna), without optuna-dashboard or Pillow. Serve its
database with loupe's dashboard and rate the colours in the browser:

    python3 main.py &
    loupe dashboard sqlite:///db.sqlite3 --artifact-dir ./artifact

It keeps 4 trials RUNNING, each with a 320x240 PNG of its r, g, b params (an
artifact) and a note showing it, exactly like the tutorial's main.py. The
functions marked "optuna-dashboard" below write the same study and trial
system attributes as optuna_dashboard's save_note, register_objective_form_widgets
and optuna.artifacts.upload_artifact (Optuna >= 3.3) do, so the database also
opens in optuna-dashboard. With those packages installed, each marked function
body can be replaced by the one-line call quoted in its docstring.
"""
import argparse
import json
import mimetypes
import os
import signal
import struct
import tempfile
import time
import uuid
import warnings
import zlib

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState

STUDY_NAME = "Human-in-the-loop Optimization"
NOTE_CHUNK = 2045  # optuna-dashboard's SYSTEM_ATTR_MAX_LENGTH (characters)

stop_requested = False


def on_signal(signum, frame):  # finish the current trial, then stop
    global stop_requested
    stop_requested = True


# --------------------------------------------------------------------------
# optuna-dashboard / Optuna >= 3.3 stand-ins (same stored keys and values)


def set_metric_names(storage, study_id, names):
    """Optuna >= 3.2: study.set_metric_names(names)"""
    storage.set_study_system_attr(study_id, "study:metric_names", list(names))


def choice_widget(choices, values, description=None):
    """optuna-dashboard: ChoiceWidget(choices=..., values=..., description=...)"""
    return {"type": "choice", "description": description, "choices": list(choices),
            "values": list(values), "user_attr_key": None}


def register_objective_form_widgets(storage, study_id, widgets):
    """optuna-dashboard: register_objective_form_widgets(study, widgets=[...])"""
    storage.set_study_system_attr(study_id, "dashboard:form_widgets:v2",
                                  {"output_type": "objective", "widgets": widgets})


def upload_artifact(storage, trial_id, file_path, artifact_dir):
    """Optuna >= 3.3: optuna.artifacts.upload_artifact(trial, file_path, FileSystemArtifactStore(artifact_dir))

    The blob is a file named by the artifact id, written whole before the
    metadata names it."""
    artifact_id = str(uuid.uuid4())
    with open(file_path, "rb") as src:
        data = src.read()
    tmp = os.path.join(artifact_dir, f".tmp-{artifact_id}")
    with open(tmp, "wb") as dst:
        dst.write(data)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, os.path.join(artifact_dir, artifact_id))
    filename = os.path.basename(file_path)
    mimetype, encoding = mimetypes.guess_type(filename)
    meta = {"artifact_id": artifact_id, "filename": filename,
            "mimetype": mimetype or "application/octet-stream", "encoding": encoding}
    storage.set_trial_system_attr(trial_id, f"artifacts:{artifact_id}", json.dumps(meta))
    return artifact_id


def get_artifact_path(study_id, trial_id, artifact_id):
    """optuna-dashboard: optuna_dashboard.artifact.get_artifact_path(trial, artifact_id)"""
    return f"/artifacts/{study_id}/{trial_id}/{artifact_id}"


def save_note(storage, study_id, trial_id, body):
    """optuna-dashboard: save_note(trial, body) -- the version first, then the chunks."""
    attrs = storage.get_study_system_attrs(study_id)
    prefix = f"dashboard:{trial_id}:note_str:"
    old_chunks = sum(1 for key in attrs if key.startswith(prefix))
    version = attrs.get(f"dashboard:{trial_id}:note_ver", 0) + 1
    storage.set_study_system_attr(study_id, f"dashboard:{trial_id}:note_ver", version)
    chunks = [body[i:i + NOTE_CHUNK] for i in range(0, len(body), NOTE_CHUNK)]
    for i, chunk in enumerate(chunks):
        storage.set_study_system_attr(study_id, f"{prefix}{i}", chunk)
    for i in range(len(chunks), old_chunks):  # a shorter note blanks the rest
        storage.set_study_system_attr(study_id, f"{prefix}{i}", "")


# --------------------------------------------------------------------------
# the tutorial


def png_bytes(r, g, b, width=320, height=240):
    """The tutorial's Image.new("RGB", (320, 240), color=(r, g, b)), with zlib only."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = (b"\x00" + bytes((r, g, b)) * width) * height
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def suggest_and_generate_image(study, storage, study_id, artifact_dir, tmp_dir):
    # 1. Ask new parameters
    trial = study.ask()
    r = trial.suggest_int("r", 0, 255)
    g = trial.suggest_int("g", 0, 255)
    b = trial.suggest_int("b", 0, 255)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)

    # 2. Generate image
    image_path = os.path.join(tmp_dir, f"sample-{trial.number}.png")
    with open(image_path, "wb") as f:
        f.write(png_bytes(r, g, b))

    # 3. Upload Artifact
    artifact_id = upload_artifact(storage, trial_id, image_path, artifact_dir)
    artifact_path = get_artifact_path(study_id, trial_id, artifact_id)
    os.remove(image_path)

    # 4. Save Note
    save_note(storage, study_id, trial_id, f"## Trial {trial.number}\n\n![generated-image]({artifact_path})\n")
    print(f"trial {trial.number}: r={r} g={g} b={b}", flush=True)


def start_optimization(args, artifact_dir, tmp_dir):
    # A database written by loupe is at schema v3.2.0.a, which Optuna 3.1 reads
    # fine but refuses without skip_compatibility_check.
    storage = RDBStorage(args.storage, skip_compatibility_check=True)
    sampler = optuna.samplers.TPESampler(constant_liar=True, n_startup_trials=5, seed=args.seed)

    # 1. Create Study
    study = optuna.create_study(study_name=args.study_name, storage=storage, sampler=sampler,
                                load_if_exists=True)
    study_id = storage.get_study_id_from_name(args.study_name)

    # 2. Set an objective name
    set_metric_names(storage, study_id, ["Looks like sunset color?"])

    # 3. Register ChoiceWidget
    register_objective_form_widgets(storage, study_id, [
        choice_widget(choices=["Good 👍", "So-so👌", "Bad 👎"], values=[-1, 0, 1],
                      description="Please input your score!"),
    ])

    # 4. Start Human-in-the-loop Optimization
    created = 0
    while not stop_requested and (args.max_trials is None or created < args.max_trials):
        # Optuna < 3.2 caches the trials a process created and never re-reads
        # them (optuna-dashboard's docs/errors.rst), so the ratings made in the
        # dashboard would stay invisible: count through the uncached storage...
        running = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,))
        if len(running) >= args.batch:
            time.sleep(args.poll_interval)  # Avoid busy-loop
            continue
        # ...and ask through a fresh Study, whose cache holds the ratings.
        study = optuna.load_study(study_name=args.study_name, storage=storage, sampler=sampler)
        suggest_and_generate_image(study, storage, study_id, artifact_dir, tmp_dir)
        created += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", default="sqlite:///db.sqlite3")
    parser.add_argument("--artifact-dir", default="artifact")
    parser.add_argument("--study-name", default=STUDY_NAME)
    parser.add_argument("--batch", type=int, default=4, help="trials kept RUNNING (the tutorial's n_batch)")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="seconds between checks (tutorial: 1)")
    parser.add_argument("--max-trials", type=int, default=None, help="stop after creating this many trials")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # constant_liar in 3.1

    # 1. Create Artifact Store (a directory; optuna >= 3.3: FileSystemArtifactStore(artifact_dir))
    os.makedirs(args.artifact_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sunset-") as tmp_dir:
        # 2. Run optimize loop
        start_optimization(args, args.artifact_dir, tmp_dir)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
