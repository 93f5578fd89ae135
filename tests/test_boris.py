"""Reading BORIS exports (aggregated events, tabular events, binary tables).

The files are small CSV and TSV files written here, with the columns of
BORIS's exports.
"""

import numpy as np
import pytest

from sklearn_dpads.boris import read_boris, read_boris_intervals

# the columns of BORIS 8's aggregated events export
AGGREGATED = [
    "Observation id", "Observation date", "Description", "Observation type", "Source",
    "Time offset (s)", "Coding duration", "Media duration (s)", "FPS", "Subject",
    "Observation duration by subject by observation", "Behavior", "Behavioral category",
    "Behavior type", "Start (s)", "Stop (s)", "Duration (s)", "Media file name",
    "Image index start", "Image index stop", "Image file path start",
    "Image file path stop", "Comment start", "Comment stop",
]  # fmt: skip
# the columns of BORIS 8's tabular events export
TABULAR = [
    "Observation id", "Observation date", "Description", "Observation duration",
    "Observation type", "Source", "Time offset (s)", "Media duration (s)", "FPS",
    "Subject", "Behavior", "Behavioral category", "Behavior type", "Time",
    "Media file name", "Image index", "Image file path", "Comment",
]  # fmt: skip

# (observation, subject, behavior, type, start, stop)
EVENTS = [
    ("obs1", "resident", "sniff", "STATE", 0.5, 1.0),
    ("obs1", "resident", "attack", "STATE", 1.5, 1.8),
    ("obs1", "resident", "bite", "POINT", 2.0, None),
    ("obs1", "intruder", "sniff", "STATE", 1.2, 1.6),
]


def _csv(rows, sep=","):
    return "\n".join(sep.join(map(str, r)) for r in rows) + "\n"


def _aggregated_rows(events=EVENTS):
    rows = [AGGREGATED]
    for obs, subject, behavior, kind, start, stop in events:
        row = dict.fromkeys(AGGREGATED, "")
        row.update(
            {
                "Observation id": obs,
                "Observation date": "2024-01-01 10:00:00",
                "Observation type": "Media file",
                "Source": "player #1:video.mp4",
                "FPS": "10.000",
                "Subject": subject,
                "Behavior": behavior,
                "Behavioral category": "Not defined",
                "Behavior type": kind,
                "Start (s)": f"{start:.3f}",
                "Stop (s)": "NA" if stop is None else f"{stop:.3f}",
                "Duration (s)": "NA" if stop is None else f"{stop - start:.3f}",
            }
        )
        rows.append([row[c] for c in AGGREGATED])
    return rows


def _tabular_rows(events=EVENTS, status_column="Behavior type"):
    columns = [status_column if c == "Behavior type" else c for c in TABULAR]
    marks = []
    for obs, subject, behavior, kind, start, stop in events:
        if kind == "POINT":
            marks.append((start, obs, subject, behavior, "POINT"))
        else:
            marks += [
                (start, obs, subject, behavior, "START"),
                (stop, obs, subject, behavior, "STOP"),
            ]
    rows = [columns]
    for time, obs, subject, behavior, status in sorted(marks):
        row = dict.fromkeys(columns, "")
        row.update(
            {
                "Observation id": obs,
                "Subject": subject,
                "Behavior": behavior,
                status_column: status,
                "Time": f"{time:.3f}",
            }
        )
        rows.append([row[c] for c in columns])
    return rows


@pytest.fixture
def aggregated(tmp_path):
    path = tmp_path / "aggregated.csv"
    path.write_text(_csv(_aggregated_rows()))
    return path


# ------------------------------------------------------------- aggregated
def test_aggregated_events_to_frames(aggregated):
    labels = read_boris(aggregated, frame_rate=10, n_frames=25, subject="resident")
    expected = ["none"] * 25
    expected[5:10] = ["sniff"] * 5  # 0.5 s to 1.0 s
    expected[15:18] = ["attack"] * 3  # 1.5 s to 1.8 s
    expected[20] = "bite"  # a point event labels one frame
    assert labels.tolist() == expected
    assert labels.dtype.kind == "U"
    ignored = read_boris(
        aggregated,
        frame_rate=10,
        n_frames=25,
        subject="resident",
        point_events="ignore",
    )
    assert "bite" not in ignored.tolist()


def test_intervals_of_every_subject(aggregated):
    assert read_boris_intervals(aggregated) == [
        ("sniff", 0.5, 1.0),
        ("sniff", 1.2, 1.6),
        ("attack", 1.5, 1.8),
        ("bite", 2.0, 2.0),
    ]
    assert read_boris_intervals(aggregated, subject="intruder") == [("sniff", 1.2, 1.6)]


def test_behaviors_background_start_time_and_clipping(aggregated):
    labels = read_boris(
        aggregated,
        frame_rate=10,
        n_frames=8,
        behaviors=["sniff", "groom"],  # groom: absent from this recording
        background="other",
        subject="resident",
        start_time=0.3,  # frame 0 is at 0.3 s
    )
    assert labels.tolist() == [
        "other",
        "other",
        "sniff",
        "sniff",
        "sniff",
        "sniff",
        "sniff",
        "other",
    ]
    late = read_boris(
        aggregated, frame_rate=10, n_frames=12, subject="resident", start_time=0.7
    )
    # sniff is cut at frame 0; attack runs past the last frame
    assert late.tolist()[:4] == ["sniff", "sniff", "sniff", "none"]
    assert late.tolist()[8:] == ["attack", "attack", "attack", "none"]


def test_short_events_label_at_least_one_frame(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(
        "Behavior,Behavior type,Start (s),Stop (s)\nflinch,STATE,0.31,0.32\n"
    )
    assert read_boris(path, frame_rate=10, n_frames=5).tolist() == [
        "none",
        "none",
        "none",
        "flinch",
        "none",
    ]


def test_overlaps(aggregated):
    with pytest.raises(
        ValueError, match=r"'(sniff|attack)' and '(sniff|attack)' both label frame 15"
    ):
        read_boris(aggregated, frame_rate=10, n_frames=25)
    first = read_boris(
        aggregated,
        frame_rate=10,
        n_frames=25,
        behaviors=["sniff", "attack"],
        overlap="first",
    )
    last = read_boris(
        aggregated,
        frame_rate=10,
        n_frames=25,
        behaviors=["sniff", "attack"],
        overlap="last",
    )
    assert first[12:18].tolist() == ["sniff"] * 4 + ["attack"] * 2
    assert last[12:18].tolist() == ["sniff"] * 3 + ["attack"] * 3
    # the same behaviour of two subjects is no overlap
    both = read_boris(aggregated, frame_rate=10, n_frames=25, behaviors=["sniff"])
    assert both[5:16].tolist() == ["sniff"] * 5 + ["none"] * 2 + ["sniff"] * 4


def test_tsv_with_lines_before_the_header(tmp_path):
    path = tmp_path / "aggregated.tsv"
    preamble = [["Observation id", "obs1"], [], ["Media file(s)", "video.mp4"], []]
    path.write_text(_csv(preamble + _aggregated_rows(), sep="\t"))
    assert read_boris_intervals(path, subject="intruder") == [("sniff", 1.2, 1.6)]
    other = tmp_path / "aggregated.txt"  # no telling suffix: the separator is guessed
    other.write_text(_csv(_aggregated_rows(), sep="\t"))
    assert read_boris_intervals(other, subject="intruder", sep=None) == [
        ("sniff", 1.2, 1.6)
    ]
    semicolons = tmp_path / "aggregated_semicolons.csv"
    semicolons.write_text(_csv(_aggregated_rows(), sep=";"))
    assert read_boris_intervals(semicolons, subject="intruder", sep=";") == [
        ("sniff", 1.2, 1.6)
    ]


def test_several_observations(tmp_path):
    path = tmp_path / "two.csv"
    events = EVENTS + [("obs2", "resident", "groom", "STATE", 0.0, 0.4)]
    path.write_text(_csv(_aggregated_rows(events)))
    with pytest.raises(
        ValueError,
        match=r"holds 2 observations \['obs1', 'obs2'\]; choose one with observation=",
    ):
        read_boris(path, frame_rate=10, n_frames=10)
    labels = read_boris(path, frame_rate=10, n_frames=6, observation="obs2")
    assert labels.tolist() == ["groom"] * 4 + ["none"] * 2


# ---------------------------------------------------------- tabular events
@pytest.mark.parametrize("status_column", ["Behavior type", "Status"])
def test_tabular_events_match_aggregated(status_column, aggregated, tmp_path):
    path = tmp_path / "tabular.csv"
    path.write_text(_csv(_tabular_rows(status_column=status_column)))
    assert read_boris_intervals(path) == read_boris_intervals(aggregated)
    kw = dict(frame_rate=10, n_frames=25, subject="resident")
    np.testing.assert_array_equal(read_boris(path, **kw), read_boris(aggregated, **kw))


def test_old_tabular_export_with_a_preamble(tmp_path):
    path = tmp_path / "old.tsv"
    rows = [
        ["Observation id", "obs1"],
        ["Observation date", "2019-05-02T10:00:00"],
        [],
        [
            "Time",
            "Media file path",
            "Total length",
            "FPS",
            "Subject",
            "Behavior",
            "Comment",
            "Status",
        ],
        ["0.500", "video.mp4", "10.0", "25", "", "rear", "", "START"],
        ["0.900", "video.mp4", "10.0", "25", "", "rear", "", "STOP"],
    ]
    path.write_text(_csv(rows, sep="\t"))
    assert read_boris_intervals(path) == [("rear", 0.5, 0.9)]


# ------------------------------------------------------------ binary table
def test_binary_table(tmp_path):
    path = tmp_path / "binary.tsv"
    rows = [["time", "attack", "sniff"]] + [
        [f"{t / 2:.1f}", int(t in (3, 4)), int(t in (0, 1, 6))] for t in range(8)
    ]
    path.write_text(_csv(rows, sep="\t"))
    assert read_boris_intervals(path) == [
        ("sniff", 0.0, 1.0),
        ("attack", 1.5, 2.5),
        ("sniff", 3.0, 3.5),
    ]
    labels = read_boris(path, frame_rate=4, n_frames=16)
    assert labels.tolist() == (
        ["sniff"] * 4
        + ["none"] * 2
        + ["attack"] * 4
        + ["none"] * 2
        + ["sniff"] * 2
        + ["none"] * 2
    )
    # a binary table holds one subject of one observation: both are ignored
    assert read_boris_intervals(path, subject="resident") == read_boris_intervals(path)


# ------------------------------------------------------------------ errors
def _write(tmp_path, text, name="events.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, match",
    [
        ("Behavior,Start,Stop\nsniff,1,2\n", "is not a BORIS export: no header row"),
        ("a,b\n1,2\n", "is not a BORIS export"),
        ("", "is not a BORIS export"),
        (
            "Behavior,Start (s),Stop (s)\nsniff,one,2\n",
            r"Line 2: Start \(s\) 'one' is not a number",
        ),
        ("Behavior,Start (s),Stop (s)\nsniff,inf,2\n", "is not a finite number"),
        (
            "Behavior,Start (s),Stop (s)\nsniff,1,NA\n",
            r"the state event 'sniff' has no Stop \(s\)",
        ),
        (
            "Behavior,Start (s),Stop (s)\nsniff,2,1\n",
            "stops at 1.0 s, before it starts",
        ),
        (
            "Behavior,Start (s),Stop (s)\n,1,2\n",
            "Line 2 of 'events.csv' has no Behavior",
        ),
        (
            "Behavior,Behavior type,Start (s),Stop (s)\nsniff,EVENT,1,2\n",
            "Behavior type 'EVENT' is not STATE or POINT",
        ),
        (
            "Behavior,Behavior type,Time\nsniff,START,1\n",
            "starts at 1.0 s and never stops",
        ),
        (
            "Behavior,Behavior type,Time\nsniff,STOP,1\n",
            "stops at 1.0 s without a start",
        ),
        (
            "Behavior,Behavior type,Time\nsniff,START,1\nsniff,START,2\nsniff,STOP,3\n",
            "starts again at 2.0 s",
        ),
        (
            "Behavior,Behavior type,Time\nsniff,BEGIN,1\n",
            "the status 'BEGIN' is not START, STOP or POINT",
        ),
        ("Behavior,Behavior type,Time\n,POINT,1\n", "has no Behavior"),
        ("Behavior,Status,Time\nsniff,START,x\n", "Line 2: Time 'x' is not a number"),
        ("time,sniff\n", "The binary table 'events.csv' has no rows"),
        ("time,sniff\n0,1\n", "has one row; its time step needs two or more"),
        ("time,sniff\n0,1\n1,0\n3,1\n", "not evenly spaced"),
        ("time,sniff\n1,1\n0,0\n", "not evenly spaced and increasing"),
        (
            "time,sniff\n0,1\n1\n",
            "Line 3 of 'events.csv' has 1 cells; the header has 2",
        ),
        ("time,sniff\n0,yes\n1,0\n", "Line 2: 'sniff' 'yes' is not a number"),
    ],
)
def test_bad_files(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_boris(_write(tmp_path, text), frame_rate=10, n_frames=10)


def test_file_errors(tmp_path, aggregated):
    with pytest.raises(FileNotFoundError, match="No BORIS export at"):
        read_boris_intervals(tmp_path / "missing.csv")
    with pytest.raises(
        ValueError,
        match="is not a plain-text table; export the events from BORIS as CSV or TSV",
    ):
        read_boris_intervals(tmp_path / "events.xlsx")
    binary = tmp_path / "latin1.csv"
    binary.write_bytes(b"Behavior,Start (s),Stop (s)\n\xe9\xff,1,2\n")
    with pytest.raises(ValueError, match="is not a UTF-8 text file"):
        read_boris_intervals(binary)
    with pytest.raises(ValueError, match="sep must be one character or None"):
        read_boris_intervals(aggregated, sep=",;")
    with pytest.raises(
        ValueError, match=r"has no subject 'cage'; it has \['intruder', 'resident'\]"
    ):
        read_boris_intervals(aggregated, subject="cage")
    with pytest.raises(
        ValueError, match=r"has no observation 'obs9'; it has \['obs1'\]"
    ):
        read_boris_intervals(aggregated, observation="obs9")


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"frame_rate": 0}, "frame_rate must be a positive number"),
        ({"frame_rate": "30"}, "frame_rate must be a positive number"),
        ({"frame_rate": float("nan")}, "frame_rate must be a positive number"),
        ({"frame_rate": True}, "frame_rate must be a positive number"),
        ({"n_frames": 0}, "n_frames must be an integer >= 1"),
        ({"n_frames": 10.0}, "n_frames must be an integer >= 1"),
        ({"start_time": float("inf")}, "start_time must be a finite number"),
        ({"start_time": None}, "start_time must be a finite number"),
        ({"point_events": "all"}, "point_events must be 'frame' or 'ignore'"),
        ({"overlap": "merge"}, "overlap must be 'error', 'first' or 'last'"),
        ({"background": 0}, "background must be a string"),
        ({"behaviors": "sniff"}, "behaviors must be a list of strings"),
        ({"behaviors": ["sniff", 1]}, "behaviors must be a list of strings"),
        ({"behaviors": ["sniff", "sniff"]}, "behaviors repeats a name"),
        ({"behaviors": ["sniff", "none"]}, "background 'none' is also in behaviors"),
        ({"background": "sniff"}, "background 'sniff' is a behaviour of the file"),
    ],
)
def test_bad_parameters(aggregated, kw, match):
    params = {"frame_rate": 10, "n_frames": 25, "subject": "resident", **kw}
    with pytest.raises(ValueError, match=match):
        read_boris(aggregated, **params)


def test_the_file_is_not_modified(aggregated):
    before = aggregated.read_bytes()
    read_boris(aggregated, frame_rate=10, n_frames=25, subject="resident")
    assert aggregated.read_bytes() == before
