"""Frame-sequence discovery: grouping names, padding, duplicates, gaps, and choosing a sequence.

Every expectation below is worked out by hand from the names in the test.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from fixtures.external import external
from restoration.sequence import (
    AmbiguousSequenceError,
    Discovery,
    NoSequenceError,
    Sequence,
    SequenceError,
    find_sequences,
    group_names,
    pick,
)

DPX_WAV_PAIR = external("sequence", "dpx_wav_pair")


def only(discovery: Discovery) -> Sequence:
    """The discovery's single sequence (fails the test when there is not exactly one)."""
    assert len(discovery.sequences) == 1, [s.pattern for s in discovery.sequences]
    return discovery.sequences[0]


def touch(folder: Path, *names: str) -> None:
    """Create empty files in ``folder``."""
    for name in names:
        (folder / name).write_bytes(b"")


# --- padding -------------------------------------------------------------------------------


def test_digit_run_growing_past_its_padding_stays_one_sequence():
    names = ["neg_10001.tif", "neg_9998.tif", "neg_10000.tif", "neg_9999.tif"]
    seq = only(group_names(names, Path("/scans")))
    assert (seq.prefix, seq.suffix, seq.padding) == ("neg_", ".tif", 4)
    assert seq.pattern == "neg_####.tif"
    assert seq.glob == "neg_*.tif"
    assert seq.frames == [
        (9998, "neg_9998.tif"),
        (9999, "neg_9999.tif"),
        (10000, "neg_10000.tif"),
        (10001, "neg_10001.tif"),
    ]
    assert (seq.first, seq.last, seq.count) == (9998, 10001, 4)
    assert seq.missing == [] and seq.missing_ranges == []
    assert seq.duplicates == []
    assert seq.names() == ["neg_9998.tif", "neg_9999.tif", "neg_10000.tif", "neg_10001.tif"]
    assert seq.path(10000) == Path("/scans/neg_10000.tif")


def test_padding_is_the_most_common_zero_padded_length():
    # Leading-zero runs: "0001" (4), "0002" (4), "003" (3) -> 4 is the most common.
    # "1000" has no leading zero and does not vote.
    seq = only(group_names(["s_0001.dpx", "s_0002.dpx", "s_003.dpx", "s_1000.dpx"]))
    assert seq.padding == 4
    assert seq.pattern == "s_####.dpx"
    assert [f for f, _ in seq.frames] == [1, 2, 3, 1000]


def test_padding_without_leading_zeros_is_the_shortest_digit_count():
    # Unpadded numbering: 1, 2, 10, 11 -> shortest run has 1 digit.
    seq = only(group_names(["shot_1.png", "shot_2.png", "shot_10.png", "shot_11.png"]))
    assert seq.padding == 1
    assert seq.pattern == "shot_#.png"
    assert seq.missing_ranges == [[3, 9]]
    assert seq.missing == [3, 4, 5, 6, 7, 8, 9]


# --- duplicates ------------------------------------------------------------------------------


def test_names_differing_only_in_zero_padding_are_one_frame_reported_as_duplicates():
    names = ["r_0012.dpx", "r_0010.dpx", "r_012.dpx", "r_0011.dpx"]
    seq = only(group_names(names))
    # Leading-zero lengths: 4, 4, 4 and 3 -> padding 4.
    assert seq.padding == 4
    assert seq.pattern == "r_####.dpx"
    # Frame 12 is counted once, under the first of its names in sorted order ("r_0012" < "r_012").
    assert seq.frames == [(10, "r_0010.dpx"), (11, "r_0011.dpx"), (12, "r_0012.dpx")]
    assert seq.count == 3
    assert seq.duplicates == [["r_0012.dpx", "r_012.dpx"]]
    assert seq.missing == []
    assert seq.path(12) == Path("r_0012.dpx")


def test_duplicates_tie_in_padding_goes_to_the_longer_count():
    seq = only(group_names(["r_012.dpx", "r_0012.dpx"]))
    # "0012" (4) and "012" (3) both have a leading zero, one vote each: the tie goes to 4.
    assert seq.padding == 4
    assert seq.frames == [(12, "r_0012.dpx")]
    assert seq.duplicates == [["r_0012.dpx", "r_012.dpx"]]


def test_several_duplicated_frames_each_get_a_sorted_list_in_frame_order():
    names = ["f_07.exr", "f_7.exr", "f_007.exr", "f_08.exr", "f_3.exr", "f_03.exr", "f_05.exr"]
    seq = only(group_names(names))
    # Leading-zero lengths: 07->2, 007->3, 08->2, 03->2, 05->2 -> padding 2.
    assert seq.padding == 2
    assert seq.frames == [(3, "f_03.exr"), (5, "f_05.exr"), (7, "f_007.exr"), (8, "f_08.exr")]
    assert seq.duplicates == [["f_03.exr", "f_3.exr"], ["f_007.exr", "f_07.exr", "f_7.exr"]]
    assert seq.missing == [4, 6]


# --- gaps ------------------------------------------------------------------------------------


def test_missing_frames_and_ranges():
    numbers = [1, 2, 3, 5, 6, 9, 10]
    seq = only(group_names([f"reel.{n:04d}.dpx" for n in numbers]))
    assert (seq.first, seq.last, seq.count) == (1, 10, 7)
    assert seq.missing == [4, 7, 8]
    assert seq.missing_ranges == [[4, 4], [7, 8]]


def test_sparse_sequence_missing_is_exact_and_ranges_are_short():
    seq = only(group_names(["reel.0000001.dpx", "reel.1000000.dpx"]))
    assert seq.missing_ranges == [[2, 999_999]]
    missing = seq.missing
    assert len(missing) == 999_998
    assert (missing[0], missing[-1]) == (2, 999_999)


def test_path_of_a_frame_that_is_not_there_raises_key_error():
    seq = only(group_names(["reel.0001.dpx", "reel.0003.dpx"], Path("/f")))
    assert seq.path(3) == Path("/f/reel.0003.dpx")
    with pytest.raises(KeyError, match="frame 2 is not in reel.####.dpx"):
        seq.path(2)
    with pytest.raises(KeyError):
        seq.path(4)


# --- several sequences, others ---------------------------------------------------------------


NAMES = [
    "reel2.0003.dpx",
    "notes.txt",
    "reel1.0001.dpx",
    ".DS_Store",
    "reel1.0002.dpx",
    "reel1.0001.tif",
    "reel2.0001.dpx",
]


def test_several_sequences_and_others_are_all_reported_sorted():
    d = group_names(NAMES, Path("/scans/r"))
    assert d.folder == Path("/scans/r")
    assert [s.pattern for s in d.sequences] == ["reel1.####.dpx", "reel1.####.tif", "reel2.####.dpx"]
    assert [s.glob for s in d.sequences] == ["reel1.*.dpx", "reel1.*.tif", "reel2.*.dpx"]
    dpx1, tif1, dpx2 = d.sequences
    assert dpx1.frames == [(1, "reel1.0001.dpx"), (2, "reel1.0002.dpx")]
    assert tif1.frames == [(1, "reel1.0001.tif")]
    assert dpx2.frames == [(1, "reel2.0001.dpx"), (3, "reel2.0003.dpx")]
    assert dpx2.missing == [2]
    assert d.others == [".DS_Store", "notes.txt"]
    assert dpx2.path(3) == Path("/scans/r/reel2.0003.dpx")


def test_input_order_does_not_matter():
    shuffled = NAMES[:]
    random.Random(7).shuffle(shuffled)
    assert group_names(shuffled) == group_names(NAMES)


def test_suffix_case_is_kept_so_dpx_and_upper_dpx_are_two_sequences():
    d = group_names(["a.0001.dpx", "a.0002.DPX", "a.0003.dpx"])
    assert [s.pattern for s in d.sequences] == ["a.####.DPX", "a.####.dpx"]
    assert [s.count for s in d.sequences] == [1, 2]


def test_a_numbered_file_alone_is_a_one_frame_sequence():
    d = group_names(["poster_2024.jpg", "readme.md"])
    seq = only(d)
    assert seq.pattern == "poster_####.jpg"
    assert (seq.first, seq.last, seq.count, seq.missing) == (2024, 2024, 1, [])
    assert d.others == ["readme.md"]


# --- name shapes -----------------------------------------------------------------------------


def test_the_last_digit_run_is_the_frame_number():
    names = ["A001C003_240101.0001234.dpx", "A001C003_240101.0001236.dpx"]
    seq = only(group_names(names))
    assert (seq.prefix, seq.suffix, seq.padding) == ("A001C003_240101.", ".dpx", 7)
    assert seq.pattern == "A001C003_240101.#######.dpx"
    assert seq.frames == [(1234, names[0]), (1236, names[1])]
    assert seq.missing == [1235]


def test_digits_after_the_frame_number_in_the_suffix_and_extension():
    # Digits in the extension are never the frame number; text between number and extension
    # belongs to the suffix.
    d = group_names(["scan_0001.jp2", "scan_0002.jp2", "take0001_final.dpx"])
    assert [(s.prefix, s.suffix, s.pattern) for s in d.sequences] == [
        ("scan_", ".jp2", "scan_####.jp2"),
        ("take", "_final.dpx", "take####_final.dpx"),
    ]


def test_frame_number_zero():
    seq = only(group_names(["reel.0000000.dpx", "reel.0000001.dpx", "reel.0000003.dpx"]))
    assert seq.padding == 7
    assert (seq.first, seq.last, seq.count) == (0, 3, 3)
    assert seq.frames[0] == (0, "reel.0000000.dpx")
    assert seq.missing == [2]
    # A lone "0" has no leading zero padding: an unpadded sequence starting at 0.
    unpadded = only(group_names(["f_0.png", "f_1.png", "f_2.png"]))
    assert (unpadded.padding, unpadded.first, unpadded.pattern) == (1, 0, "f_#.png")


def test_very_large_frame_numbers():
    seq = only(group_names(["reel.86400000.dpx", "reel.86400001.dpx", "reel.99999999.dpx"]))
    assert seq.padding == 8
    assert seq.pattern == "reel.########.dpx"
    assert (seq.first, seq.last, seq.count) == (86_400_000, 99_999_999, 3)
    assert seq.missing_ranges == [[86_400_002, 99_999_998]]


def test_names_without_extension():
    seq = only(group_names(["frame0002", "frame0001", "frame0004"]))
    assert (seq.prefix, seq.suffix, seq.pattern, seq.glob) == ("frame", "", "frame####", "frame*")
    assert seq.names() == ["frame0001", "frame0002", "frame0004"]
    assert seq.missing == [3]
    # An all-digit "extension" is the frame number itself, not an extension.
    dotted = only(group_names(["reel.0001", "reel.0002"]))
    assert (dotted.prefix, dotted.suffix, dotted.pattern) == ("reel.", "", "reel.####")


def test_glob_escapes_shell_metacharacters():
    seq = only(group_names(["take[1]_0001.dpx", "take[1]_0002.dpx"]))
    assert seq.pattern == "take[1]_####.dpx"
    assert seq.glob == "take[[]1]_*.dpx"
    assert pick(group_names(["take[1]_0001.dpx"]), seq.glob).count == 1


def test_hidden_names_and_subfolder_names_go_to_others():
    d = group_names(["._reel.0001.dpx", "reel.0001.dpx", "proxies/", ".thumbs/", "reel.0002.dpx"])
    assert only(d).names() == ["reel.0001.dpx", "reel.0002.dpx"]
    assert d.others == ["._reel.0001.dpx", ".thumbs/", "proxies/"]


def test_twenty_thousand_names_group_into_one_sequence():
    # 20,000 frames from 86400, every 1000th (from 87000 on) missing: 87000, 88000, ..., 106000.
    names = [f"reel.{n:07d}.dpx" for n in range(86_400, 106_400) if n % 1000]
    names += ["notes.txt", ".DS_Store"]
    random.Random(1).shuffle(names)
    d = group_names(names)
    seq = only(d)
    assert (seq.first, seq.last) == (86_400, 106_399)
    assert seq.count == 20_000 - 20
    assert seq.missing == list(range(87_000, 106_001, 1000))
    assert d.others == [".DS_Store", "notes.txt"]


# --- pick ------------------------------------------------------------------------------------


def test_pick_from_no_sequence_raises_naming_the_folder():
    d = group_names(["notes.txt"], Path("/scans/empty"))
    with pytest.raises(NoSequenceError, match="/scans/empty") as err:
        pick(d)
    assert isinstance(err.value, SequenceError) and isinstance(err.value, ValueError)
    with pytest.raises(NoSequenceError, match="/scans/empty"):
        pick(d, "*.dpx")


def test_pick_the_only_sequence():
    d = group_names(["reel.0001.dpx", "reel.0002.dpx", "notes.txt"])
    assert pick(d) is d.sequences[0]
    assert pick(d, "reel.####.dpx") is d.sequences[0]


def test_pick_among_several_without_a_pattern_lists_the_choices():
    d = group_names(NAMES, Path("/scans/r"))
    with pytest.raises(AmbiguousSequenceError) as err:
        pick(d)
    message = str(err.value)
    assert "3 frame sequences in /scans/r" in message
    assert "reel1.####.dpx (2 frames, 1–2)" in message
    assert "reel1.####.tif (1 frame, 1–1)" in message
    assert "reel2.####.dpx (2 frames, 1–3)" in message
    assert err.value.choices == d.sequences


def test_pick_by_exact_pattern():
    d = group_names(NAMES)
    assert pick(d, "reel1.####.tif") is d.sequences[1]
    assert pick(d, "reel2.####.dpx") is d.sequences[2]


def test_pick_by_glob_over_file_names():
    d = group_names(NAMES)
    assert pick(d, "reel2.*") is d.sequences[2]
    assert pick(d, "*.tif") is d.sequences[1]
    assert pick(d, "*.0003.dpx") is d.sequences[2]
    assert pick(d, "reel1.0002.dpx") is d.sequences[0]  # one file's name
    assert pick(d, "reel1.*.dpx") is d.sequences[0]  # a sequence's glob


def test_pick_glob_selecting_several_sequences_is_ambiguous():
    d = group_names(NAMES)
    with pytest.raises(AmbiguousSequenceError) as err:
        pick(d, "reel1.*")
    message = str(err.value)
    assert "'reel1.*' selects files of 2 frame sequences" in message
    assert "reel1.####.dpx (2 frames, 1–2)" in message
    assert "reel1.####.tif (1 frame, 1–1)" in message
    assert "reel2" not in message
    assert [s.pattern for s in err.value.choices] == ["reel1.####.dpx", "reel1.####.tif"]


def test_pick_glob_is_case_sensitive_and_a_duplicate_name_selects_its_sequence():
    d = group_names(["r_0012.dpx", "r_012.dpx", "x_0001.tif"])
    assert pick(d, "r_012.dpx").pattern == "r_####.dpx"
    with pytest.raises(NoSequenceError):
        pick(d, "*.DPX")


def test_pick_with_a_pattern_selecting_nothing_names_it_and_lists_the_choices():
    d = group_names(NAMES, Path("/scans/r"))
    with pytest.raises(NoSequenceError) as err:
        pick(d, "reel9.*")
    message = str(err.value)
    assert "no frame sequence in /scans/r matches 'reel9.*'" in message
    for choice in ("reel1.####.dpx (2 frames, 1–2)", "reel2.####.dpx (2 frames, 1–3)"):
        assert choice in message


# --- the file system -------------------------------------------------------------------------


def test_empty_folder(tmp_path):
    d = find_sequences(tmp_path)
    assert d == Discovery(folder=tmp_path, sequences=[], others=[])
    with pytest.raises(NoSequenceError, match=str(tmp_path)):
        pick(d)


def test_folder_with_hidden_files_and_subfolders_is_not_recursed(tmp_path):
    touch(tmp_path, "reel.0002.dpx", "reel.0001.dpx", ".DS_Store", "._reel.0001.dpx")
    (tmp_path / "proxies").mkdir()
    touch(tmp_path / "proxies", "reel.0003.dpx")
    (tmp_path / ".thumbs").mkdir()
    (tmp_path / "reel.0004.dpx").mkdir()  # a folder named like a frame is not a frame
    d = find_sequences(tmp_path)
    seq = only(d)
    assert seq.folder == tmp_path
    assert seq.frames == [(1, "reel.0001.dpx"), (2, "reel.0002.dpx")]
    assert seq.path(2) == tmp_path / "reel.0002.dpx"
    assert d.others == [".DS_Store", "._reel.0001.dpx", ".thumbs/", "proxies/", "reel.0004.dpx/"]


def test_find_sequences_on_a_missing_folder_or_a_file_names_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(SequenceError, match="nope: no such folder"):
        find_sequences(missing)
    touch(tmp_path, "reel.0001.dpx")
    with pytest.raises(SequenceError, match="reel.0001.dpx: not a folder"):
        find_sequences(tmp_path / "reel.0001.dpx")


def test_real_scan_folder_dpx_with_a_wav():
    # The folder: test_000001.dpx .. test_000013.dpx and test_000001.wav. The lone numbered
    # .wav is a one-frame sequence of its own, so choosing the scan needs a pattern.
    d = find_sequences(DPX_WAV_PAIR)
    assert [s.pattern for s in d.sequences] == ["test_######.dpx", "test_######.wav"]
    assert d.others == []
    dpx = pick(d, "*.dpx")
    assert dpx is d.sequences[0]
    assert (dpx.padding, dpx.first, dpx.last, dpx.count) == (6, 1, 13, 13)
    assert dpx.missing == [] and dpx.duplicates == []
    assert dpx.names() == [f"test_{n:06d}.dpx" for n in range(1, 14)]
    assert dpx.path(13) == DPX_WAV_PAIR / "test_000013.dpx"
    assert dpx.path(13).is_file()
    wav = pick(d, "test_######.wav")
    assert wav.frames == [(1, "test_000001.wav")]
    with pytest.raises(AmbiguousSequenceError, match=r"test_######\.dpx \(13 frames, 1–13\)"):
        pick(d)
