"""Read config.yaml safely: any file, however broken or hostile, gives data or one ConfigError.

Refused with a message naming the file, the line and the fix: a missing file, a directory
or device, a file over :data:`MAX_BYTES`, bytes that are not UTF-8 (or NUL bytes: a binary
file), an empty file, YAML syntax errors, duplicate keys, nesting deeper than
:data:`MAX_DEPTH`, aliases that refer to themselves or expand past :data:`MAX_NODES`
values (the "billion laughs" bomb), and more than one document.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from brandpulse.core.config_errors import dotted_key
from brandpulse.core.errors import ConfigError

MAX_BYTES = 256 * 1024  # the shipped config.yaml is 8 KB
MAX_DEPTH = 40  # the deepest real setting is 6 levels down
MAX_NODES = 50_000  # values after expanding aliases; a real config has a few hundred
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: fast, caps nesting itself


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader: no Python objects, only plain data."""


Lines = dict[tuple[Any, ...], int]
STR, MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"


def read_bytes(path: Path, origin: str) -> bytes:
    """The file's bytes, or ConfigError when it is missing, not a file or too large."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"config file {path}{origin} does not exist; copy config.yaml from the "
                          "brandpulse repository or set BRANDPULSE_CONFIG to your file") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}{origin} cannot be read ({exc.strerror or exc}); "
                          "check the path and its permissions") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"config file {path}{origin} is a directory; point BRANDPULSE_CONFIG at "
                          "the config.yaml file itself")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"config file {path}{origin} is not a regular file; point BRANDPULSE_CONFIG "
                          "at a config.yaml file")
    if info.st_size > MAX_BYTES:
        raise ConfigError(f"config file {path}{origin} is {info.st_size:,} bytes, over the "
                          f"{MAX_BYTES // 1024} KiB limit; is it the right file?")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"config file {path}{origin} cannot be read ({exc.strerror or exc}); "
                          "check the path and its permissions") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"config file {path}{origin} is over the {MAX_BYTES // 1024} KiB limit; "
                          "is it the right file?")
    return data


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text (a byte-order mark is allowed), or ConfigError naming line and column."""
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise ConfigError(f"{path} contains NUL bytes (line {line}): it is a binary file, not YAML; "
                          "point BRANDPULSE_CONFIG at your config.yaml")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line, column = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, "
                          f"column {column}; save the file as UTF-8") from None


def _check_nodes(root: Node, path: Path) -> Lines:
    """Walk the node graph once per path (iteratively); refuse bombs, cycles, depth and duplicates."""
    lines: Lines = {}
    count = 0
    stack: list[tuple[Node, tuple[Any, ...], frozenset[int], int]] = [
        (root, (), frozenset(), root.start_mark.line + 1)]
    while stack:
        node, loc, above, line = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ConfigError(f"{path} expands to more than {MAX_NODES:,} values (line {line}); "
                              "it is not a brandpulse config, or it uses YAML aliases (*name) to "
                              "repeat a block many times: write the values out instead")
        if len(loc) > MAX_DEPTH:
            raise ConfigError(f"{path} nests deeper than {MAX_DEPTH} levels at line {line}; "
                              "brandpulse settings are at most a few levels deep")
        if id(node) in above:
            raise ConfigError(f"{path} line {line}: a YAML alias refers to the block that contains "
                              "it, which would repeat forever; remove the alias")
        lines.setdefault(loc, line)
        inner = above | {id(node)}
        if isinstance(node, ScalarNode) and "\x00" in node.value:
            where = dotted_key(loc) or "a key"
            raise ConfigError(f"{path} line {node.start_mark.line + 1}: {where} contains a NUL "
                              "character (\\0); remove it")
        if isinstance(node, SequenceNode):
            stack.extend((child, loc + (i,), inner, child.start_mark.line + 1)
                         for i, child in enumerate(node.value))
        elif isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key, value in node.value:
                key_line = key.start_mark.line + 1
                if isinstance(key, ScalarNode) and "\x00" in key.value:
                    raise ConfigError(f"{path} line {key_line}: a key under "
                                      f"{dotted_key(loc) or 'the top level'} contains a NUL "
                                      "character (\\0); remove it")
                if isinstance(key, ScalarNode) and key.tag == STR:
                    name = key.value
                    if name in seen:
                        where = dotted_key(loc + (name,))
                        raise ConfigError(f"{path} line {key_line}: key {where} is given twice (first "
                                          f"at line {seen[name]}); keep one of them")
                    seen[name] = key_line
                    stack.append((value, loc + (name,), inner, key_line))
                elif isinstance(key, ScalarNode) and key.tag == MERGE:
                    stack.append((value, loc + ("<<",), inner, key_line))
                else:
                    shown = repr(key.value)[:40] if isinstance(key, ScalarNode) else "a list or mapping"
                    raise ConfigError(f"{path} line {key_line}: key {shown} is not a name; keys are words "
                                      "such as brands or enabled (put quotes around a key that is a "
                                      "number, yes/no or null)")
    return lines


def parse(text: str, path: Path) -> tuple[Any, Lines]:
    """The document's data and the line of each key path; ConfigError on anything else."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{path} is empty; copy config.yaml from the brandpulse repository "
                              "and list your brands in it")
        lines = _check_nodes(node, path)
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).replace('"<unicode string>"', str(path)).split())
        raise ConfigError(f"{path} is not valid YAML: {detail}; "
                          "fix the syntax at the line shown") from None
    except RecursionError:
        raise ConfigError(f"{path} nests deeper than {MAX_DEPTH} levels; brandpulse settings are "
                          "at most a few levels deep") from None
    finally:
        loader.dispose()


def read_config(path: Path, from_env: bool = False) -> tuple[Any, Lines]:
    """Read, decode and parse a config file; every failure is a ConfigError."""
    origin = f" (from BRANDPULSE_CONFIG={os.environ.get('BRANDPULSE_CONFIG', '')!r})" if from_env else ""
    return parse(decode(read_bytes(path, origin), path), path)
