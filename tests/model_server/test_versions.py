"""The numbered version folders of a base path, in one module: what counts as a version, in which order,
and that a version appears (publish) and disappears (withdraw) in one rename, never half-written."""

import pytest

from model_server import versions


def folders(base, *names: str) -> None:
    for name in names:
        (base / name).mkdir(parents=True)


def test_versions_sort_as_numbers_not_as_text(tmp_path):
    folders(tmp_path, "2", "10", "1")
    assert list(versions.list_versions(tmp_path)) == [1, 2, 10]
    assert versions.list_versions(tmp_path)[10] == tmp_path / "10"
    assert versions.latest_version(tmp_path) == 10
    assert versions.next_version(tmp_path) == 11


def test_only_numbered_folders_are_versions(tmp_path):
    folders(tmp_path, "3", "latest", "v4", "1.5", ".export-7-abc", "²", "-1")
    (tmp_path / "8").write_text("a file, not a folder")
    assert list(versions.list_versions(tmp_path)) == [3]
    assert versions.next_version(tmp_path) == 4


@pytest.mark.parametrize(
    "name, is_version",
    [
        ("1", True),
        ("0010", True),
        ("10", True),
        ("", False),
        ("²", False),
        ("1.0", False),
        (" 1", False),
        ("-1", False),
        ("latest", False),
    ],
)
def test_a_version_name_is_ascii_digits(name, is_version):
    assert versions.is_version_name(name) is is_version


def test_an_empty_or_missing_base_path_has_no_versions(tmp_path):
    assert versions.list_versions(tmp_path / "nowhere") == {}
    assert versions.latest_version(tmp_path) is None
    assert versions.next_version(tmp_path / "nowhere") == 1


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_a_version_is_a_whole_number_from_one(version, tmp_path):
    with pytest.raises(ValueError, match="version"):
        versions.version_path(tmp_path, version)


def test_publish_copies_a_folder_and_leaves_no_temporary_folder(tmp_path):
    source = tmp_path / "savedmodel"
    (source / "variables").mkdir(parents=True)
    (source / "saved_model.pb").write_bytes(b"model")
    (source / "variables" / "v.index").write_bytes(b"weights")
    base = tmp_path / "served"
    target = versions.publish(base, 1, source)
    assert target == base / "1"
    assert (target / "saved_model.pb").read_bytes() == b"model"
    assert (target / "variables" / "v.index").read_bytes() == b"weights"
    assert sorted(path.name for path in base.iterdir()) == ["1"]


def test_publish_with_a_writer_function(tmp_path):
    seen = []

    def write(folder):
        seen.append(folder)
        (folder / "saved_model.pb").write_bytes(b"written")

    target = versions.publish(tmp_path, 2, write)
    assert (target / "saved_model.pb").read_bytes() == b"written"
    assert seen[0].parent == tmp_path and versions.is_staging_name(seen[0].name)  # written beside, hidden
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2"]


def test_the_version_is_invisible_until_it_is_complete(tmp_path):
    """While the files are written, a server listing the base path sees no new version."""
    during = []

    def write(folder):
        (folder / "saved_model.pb").write_bytes(b"half")
        during.append(dict(versions.list_versions(tmp_path)))

    versions.publish(tmp_path, 1, write)
    assert during == [{}]
    assert list(versions.list_versions(tmp_path)) == [1]


def test_a_failed_publish_leaves_nothing_behind(tmp_path):
    def broken(folder):
        (folder / "saved_model.pb").write_bytes(b"half written")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        versions.publish(tmp_path, 1, broken)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_copy_leaves_nothing_behind(tmp_path):
    with pytest.raises(OSError):
        versions.publish(tmp_path / "served", 1, tmp_path / "no-such-model")
    assert list((tmp_path / "served").iterdir()) == []


def test_publish_never_overwrites_unless_asked(tmp_path):
    folders(tmp_path, "1")
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"old")
    with pytest.raises(versions.VersionExistsError, match="exists already"):
        versions.publish(tmp_path, 1, lambda folder: (folder / "saved_model.pb").write_bytes(b"new"))
    assert (tmp_path / "1" / "saved_model.pb").read_bytes() == b"old"
    versions.publish(tmp_path, 1, lambda folder: (folder / "saved_model.pb").write_bytes(b"new"), replace=True)
    assert (tmp_path / "1" / "saved_model.pb").read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["1"]


def test_a_failed_replace_keeps_the_old_version(tmp_path):
    folders(tmp_path, "1")
    (tmp_path / "1" / "saved_model.pb").write_bytes(b"old")

    def broken(folder):
        raise RuntimeError("export crashed")

    with pytest.raises(RuntimeError, match="export crashed"):
        versions.publish(tmp_path, 1, broken, replace=True)
    assert (tmp_path / "1" / "saved_model.pb").read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["1"]


def test_withdraw_removes_the_version_and_the_previous_one_is_the_latest(tmp_path):
    folders(tmp_path, "1", "2")
    versions.withdraw(tmp_path, 2)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["1"]
    assert versions.latest_version(tmp_path) == 1


def test_withdrawing_a_missing_version_says_so(tmp_path):
    folders(tmp_path, "1")
    with pytest.raises(versions.VersionNotFoundError) as raised:
        versions.withdraw(tmp_path, 3)
    message = str(raised.value)
    assert "cannot withdraw version 3" in message and str(tmp_path / "3") in message and "[1]" in message
    assert isinstance(raised.value, FileNotFoundError)


def test_the_server_discovers_versions_the_same_way(tmp_path):
    """model_server.manager reads the same folders: numbered, as numbers, holding a SavedModel."""
    from model_server import manager

    folders(tmp_path, "2", "10", "latest", "3")
    for name in ("2", "10", "latest"):
        (tmp_path / name / "saved_model.pb").write_bytes(b"model")
    assert list(manager.discover_versions(str(tmp_path))) == [2, 10]  # 3 has no saved_model.pb yet
    assert manager.discover_versions(str(tmp_path / "nowhere")) is None
