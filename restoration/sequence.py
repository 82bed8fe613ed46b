"""Frame sequences in one folder, as film scanners write them.

A scanner writes one file per frame: ``reel.0086400.dpx``, ``neg_0001.tif``,
``A001C003_240101.0001234.dpx``. This module lists one folder (not recursively) and groups its
file names into sequences, each a *prefix*, a run of digits (the frame number) and a *suffix*.

Rules
-----
Name parsing
    Hidden names (starting with ``"."``) and subfolders go to ``others``. The extension is the
    part from the last ``"."`` unless what follows that dot is all digits (``reel.0001`` has no
    extension, so its frame number is 1); digits inside an extension (``.jp2``, ``.mp4``) are never
    the frame number. The frame number is the LAST run of ASCII digits before the extension;
    what lies between that run and the extension belongs to the suffix
    (``frame0001_final.dpx`` → prefix ``frame``, suffix ``_final.dpx``). A name without digits
    there goes to ``others``.
Grouping
    Names sharing the exact prefix and suffix form one sequence. Comparison is case-sensitive:
    ``.DPX`` and ``.dpx`` files are two sequences. A numbered file alone is a sequence of one
    frame (so an audio file ``test_000001.wav`` beside a DPX scan is a sequence of its own; pass a
    pattern to :func:`pick` to choose the scan).
Padding
    The most common digit count among the names whose digit run has a leading zero
    (``0012``, not ``0`` alone); a tie goes to the longer count. When no name has a leading zero,
    the smallest digit count. The run may grow past the padding: ``neg_9999.tif`` and
    ``neg_10000.tif`` are one sequence with padding 4.
Duplicates
    Frame numbers are ints, so names whose digits differ only in zero padding (``r_0012.dpx``
    and ``r_012.dpx``) are the same frame. The frame is counted once and listed under the first
    of its names in sorted order; every name of such a frame is reported in ``duplicates``.

Listing a folder is one ``os.scandir`` pass, using only what the directory entry already knows
(no ``stat`` per file on file systems that report the entry type), and grouping is one compiled
regular-expression search per name; :func:`group_names` does the grouping without touching the
file system.
"""
from __future__ import annotations

import bisect
import glob as _glob
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

__all__ = [
    "AmbiguousSequenceError",
    "Discovery",
    "NoSequenceError",
    "Sequence",
    "SequenceError",
    "find_sequences",
    "group_names",
    "pick",
]

# The frame number and the suffix: the last run of ASCII digits that is followed only by
# non-digits and then, optionally, an extension (a last "." and what follows it, unless that is
# all digits; the extension may hold digits, as in ".jp2"). ``search`` finds the leftmost such
# run, which is the last run before the extension.
_FRAME_AND_SUFFIX = re.compile(r"([0-9]+)([^0-9]*(?:\.(?=[^.]*[^.0-9])[^.]*|\.)?)\Z")


class SequenceError(ValueError):
    """A folder could not be read, or no single frame sequence could be chosen from it."""


class NoSequenceError(SequenceError):
    """No frame sequence (or none matching the requested pattern) was found in a folder.

    Parameters
    ----------
    folder : Path
        The folder that was searched.
    pattern : str or None
        The pattern that selected nothing, if one was given.
    choices : list of Sequence
        The sequences that are in the folder (listed in the message when a pattern was given).
    """

    def __init__(
        self, folder: Path, pattern: str | None = None, choices: Iterable[Sequence] = ()
    ) -> None:
        self.folder = Path(folder)
        self.pattern = pattern
        self.choices = list(choices)
        if pattern is None:
            message = f"no frame sequence in {self.folder}"
        elif self.choices:
            message = (
                f"no frame sequence in {self.folder} matches {pattern!r}; "
                f"choose one of: {_describe_all(self.choices)}"
            )
        else:
            message = f"no frame sequence in {self.folder} matches {pattern!r}; the folder has none"
        super().__init__(message)


class AmbiguousSequenceError(SequenceError):
    """More than one frame sequence could be meant; the message lists them.

    Parameters
    ----------
    folder : Path
        The folder that was searched.
    choices : list of Sequence
        The sequences among which to choose.
    pattern : str or None
        The pattern (if any) that selected files of all of ``choices``.
    """

    def __init__(
        self, folder: Path, choices: Iterable[Sequence], pattern: str | None = None
    ) -> None:
        self.folder = Path(folder)
        self.pattern = pattern
        self.choices = list(choices)
        listing = _describe_all(self.choices)
        if pattern is None:
            message = (
                f"{len(self.choices)} frame sequences in {self.folder}; "
                f"give a pattern to choose one of: {listing}"
            )
        else:
            message = (
                f"{pattern!r} selects files of {len(self.choices)} frame sequences in "
                f"{self.folder}; choose one of: {listing}"
            )
        super().__init__(message)


@dataclass
class Sequence:
    """One numbered run of files in a folder.

    Attributes
    ----------
    folder : Path
        The folder holding the files.
    prefix : str
        Everything in the file names before the frame number.
    suffix : str
        Everything after the frame number, extension included (may be empty).
    padding : int
        Digit count of the frame numbers (see the module docstring for how it is chosen).
    frames : list of (int, str)
        ``(frame number, file name)`` in frame-number order, one entry per distinct number.
    duplicates : list of list of str
        For each frame number written by more than one file, all those names, sorted; the lists
        are in frame-number order. The first name of each list is the one in ``frames``.
    """

    folder: Path
    prefix: str
    suffix: str
    padding: int
    frames: list[tuple[int, str]]
    duplicates: list[list[str]] = field(default_factory=list)

    @property
    def first(self) -> int:
        """First frame number.

        Raises
        ------
        ValueError
            When the sequence has no frames.
        """
        if not self.frames:
            raise ValueError(f"{self.pattern} has no frames")
        return self.frames[0][0]

    @property
    def last(self) -> int:
        """Last frame number.

        Raises
        ------
        ValueError
            When the sequence has no frames.
        """
        if not self.frames:
            raise ValueError(f"{self.pattern} has no frames")
        return self.frames[-1][0]

    @property
    def count(self) -> int:
        """Number of distinct frame numbers present."""
        return len(self.frames)

    @property
    def missing(self) -> list[int]:
        """Every frame number from ``first`` to ``last`` that has no file, ascending.

        Exact and uncapped: built from the gaps between present frames, so its size is the number
        of missing frames (which can be large for a sparse sequence; see ``missing_ranges``).
        """
        out: list[int] = []
        for a, b in self.missing_ranges:
            out.extend(range(a, b + 1))
        return out

    @property
    def missing_ranges(self) -> list[list[int]]:
        """The missing frame numbers as inclusive ``[start, end]`` pairs, ascending."""
        ranges: list[list[int]] = []
        previous: int | None = None
        for number, _ in self.frames:
            if previous is not None and number > previous + 1:
                ranges.append([previous + 1, number - 1])
            previous = number
        return ranges

    @property
    def pattern(self) -> str:
        """The names with one ``#`` per padding digit, e.g. ``reel.#######.dpx``."""
        return f"{self.prefix}{'#' * self.padding}{self.suffix}"

    @property
    def glob(self) -> str:
        """A shell glob for the names, e.g. ``reel.*.dpx``.

        Glob metacharacters in the prefix and suffix are escaped. The glob is looser than the
        sequence: ``*`` matches any text, so it may also match files of other sequences.
        """
        return f"{_glob.escape(self.prefix)}*{_glob.escape(self.suffix)}"

    def path(self, frame: int) -> Path:
        """Path of the file holding ``frame``.

        Parameters
        ----------
        frame : int
            A frame number present in the sequence.

        Returns
        -------
        Path
            ``folder / name`` (for a duplicated frame, the name listed in ``frames``).

        Raises
        ------
        KeyError
            When the sequence has no such frame.
        """
        i = bisect.bisect_left(self.frames, (frame,))
        if i < len(self.frames) and self.frames[i][0] == frame:
            return self.folder / self.frames[i][1]
        raise KeyError(f"frame {frame} is not in {self.pattern}")

    def names(self) -> list[str]:
        """File names in frame-number order (one per distinct frame)."""
        return [name for _, name in self.frames]

    def all_names(self) -> list[str]:
        """Every file name of the sequence, duplicates included, sorted by name."""
        names = {name for _, name in self.frames}
        for group in self.duplicates:
            names.update(group)
        return sorted(names)

    def describe(self) -> str:
        """One line for messages: ``pattern (count frames, first–last)``."""
        if not self.frames:
            return f"{self.pattern} (no frames)"
        noun = "frame" if self.count == 1 else "frames"
        return f"{self.pattern} ({self.count} {noun}, {self.first}–{self.last})"


@dataclass
class Discovery:
    """What one folder holds.

    Attributes
    ----------
    folder : Path
        The folder listed.
    sequences : list of Sequence
        Sorted by pattern.
    others : list of str
        Sorted names that belong to no sequence: unnumbered files, hidden entries, and
        subfolders (with a trailing ``"/"``).
    """

    folder: Path
    sequences: list[Sequence]
    others: list[str]


def _split(name: str) -> tuple[str, str, str] | None:
    """Split a file name into ``(prefix, digits, suffix)``, or None when it is no frame.

    Parameters
    ----------
    name : str
        A plain file name (no directory part).

    Returns
    -------
    tuple of str, or None
        None for hidden names, names ending in ``"/"`` (subfolders) and names without digits
        before their extension.
    """
    if not name or name[0] == "." or name[-1] == "/":
        return None
    match = _FRAME_AND_SUFFIX.search(name)
    if match is None:
        return None
    start = match.start()
    return name[:start], match[1], match[2]


def _padding(digit_runs: Iterable[str]) -> int:
    """Choose a sequence's padding from the digit runs of its names.

    Parameters
    ----------
    digit_runs : iterable of str
        The frame-number digits of each name (at least one).

    Returns
    -------
    int
        The most common length among runs with a leading zero (ties: the longer), else the
        shortest length.
    """
    runs = list(digit_runs)
    padded = Counter(len(d) for d in runs if len(d) > 1 and d[0] == "0")
    if padded:
        return max(padded.items(), key=lambda item: (item[1], item[0]))[0]
    return min(len(d) for d in runs)


def group_names(names: Iterable[str], folder: Path = Path(".")) -> Discovery:
    """Group file names into frame sequences, without touching the file system.

    Parameters
    ----------
    names : iterable of str
        Plain names of the entries of one folder; a name ending in ``"/"`` is a subfolder.
    folder : Path
        The folder the names are in (used for ``Sequence.path`` and in messages).

    Returns
    -------
    Discovery
        The sequences, sorted by pattern, and the other names, sorted.
    """
    folder = Path(folder)
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    others: list[str] = []
    split = _split
    for name in names:
        parts = split(name)
        if parts is None:
            others.append(name)
            continue
        prefix, digits, suffix = parts
        members = groups.get((prefix, suffix))
        if members is None:
            groups[prefix, suffix] = [(digits, name)]
        else:
            members.append((digits, name))

    sequences = [
        _make_sequence(folder, prefix, suffix, members)
        for (prefix, suffix), members in groups.items()
    ]
    sequences.sort(key=lambda s: (s.pattern, s.prefix, s.suffix))
    others.sort()
    return Discovery(folder=folder, sequences=sequences, others=others)


def _make_sequence(
    folder: Path, prefix: str, suffix: str, members: list[tuple[str, str]]
) -> Sequence:
    """Build one sequence from its ``(digits, name)`` members (at least one).

    Parameters
    ----------
    folder, prefix, suffix
        As in :class:`Sequence`.
    members : list of (str, str)
        The frame-number digits and the file name of each member, in any order.

    Returns
    -------
    Sequence
        With frames in number order, and duplicated frame numbers listed under the first of
        their names in sorted order.
    """
    digit_runs = [digits for digits, _ in members]
    numbers = [int(digits) for digits in digit_runs]
    by_number = dict(zip(numbers, (name for _, name in members), strict=True))
    frames: list[tuple[int, str]] = []
    duplicates: list[list[str]] = []
    if len(by_number) == len(members):  # the usual case: no duplicated frame number
        frames = [(number, by_number[number]) for number in sorted(by_number)]
    else:
        numbered = sorted(zip(numbers, (name for _, name in members), strict=True))
        for number, name in numbered:
            if frames and frames[-1][0] == number:
                if duplicates and duplicates[-1][0] == frames[-1][1]:
                    duplicates[-1].append(name)
                else:
                    duplicates.append([frames[-1][1], name])
            else:
                frames.append((number, name))
    return Sequence(
        folder=folder,
        prefix=prefix,
        suffix=suffix,
        padding=_padding(digit_runs),
        frames=frames,
        duplicates=duplicates,
    )


def find_sequences(folder: Path) -> Discovery:
    """List one folder (not recursively) and group its files into frame sequences.

    Parameters
    ----------
    folder : Path
        The folder to list.

    Returns
    -------
    Discovery
        As :func:`group_names`; subfolders are in ``others`` with a trailing ``"/"``, and so are
        entries that are neither files nor folders (sockets, broken links).

    Raises
    ------
    SequenceError
        Naming the folder, when it does not exist, is not a directory or cannot be read.
    """
    folder = Path(folder)
    names: list[str] = []
    odd: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_file():
                        names.append(name)
                    elif entry.is_dir():
                        names.append(name + "/")
                    else:
                        odd.append(name)
                except OSError:
                    odd.append(name)
    except FileNotFoundError as exc:
        raise SequenceError(f"{folder}: no such folder") from exc
    except NotADirectoryError as exc:
        raise SequenceError(f"{folder}: not a folder") from exc
    except PermissionError as exc:
        raise SequenceError(f"{folder}: permission denied reading the folder") from exc
    except OSError as exc:
        raise SequenceError(f"{folder}: cannot read the folder ({exc.strerror or exc})") from exc
    discovery = group_names(names, folder)
    if odd:
        discovery.others = sorted(discovery.others + odd)
    return discovery


def pick(discovery: Discovery, pattern: str | None = None) -> Sequence:
    """Choose one sequence of a discovery.

    Parameters
    ----------
    discovery : Discovery
        What :func:`find_sequences` or :func:`group_names` returned.
    pattern : str or None
        None to take the only sequence; otherwise a sequence's ``pattern`` exactly
        (``reel.#######.dpx``), or a shell glob matched case-sensitively against the file names
        (``reel.*.dpx``, ``*.dpx``, or one file's name).

    Returns
    -------
    Sequence
        The chosen sequence.

    Raises
    ------
    NoSequenceError
        When the folder holds no sequence, or the pattern selects none (the message lists the
        choices).
    AmbiguousSequenceError
        When no pattern is given and there are several sequences, or the pattern selects files
        of more than one (the message lists them with count and first–last frames).
    """
    sequences = discovery.sequences
    folder = discovery.folder
    if not sequences:
        raise NoSequenceError(folder, pattern)
    if pattern is None:
        if len(sequences) == 1:
            return sequences[0]
        raise AmbiguousSequenceError(folder, sequences)

    exact = [s for s in sequences if s.pattern == pattern]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise AmbiguousSequenceError(folder, exact, pattern)

    matched = [s for s in sequences if any(fnmatchcase(n, pattern) for n in _every_name(s))]
    if len(matched) == 1:
        return matched[0]
    if matched:
        raise AmbiguousSequenceError(folder, matched, pattern)
    raise NoSequenceError(folder, pattern, sequences)


def _every_name(sequence: Sequence) -> Iterable[str]:
    """Every file name of a sequence, duplicates included, in no particular order."""
    for _, name in sequence.frames:
        yield name
    for group in sequence.duplicates:
        yield from group[1:]


def _describe_all(sequences: Iterable[Sequence]) -> str:
    """Join the one-line descriptions of sequences with ``"; "``."""
    return "; ".join(s.describe() for s in sequences)
