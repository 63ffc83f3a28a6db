"""nmfrec.io: the readers of ratings and titles files, and their errors (file and line named)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import nmfrec.io as nmfrec_io
from nmfrec import Recommender
from nmfrec._validation import locate_row
from nmfrec.evaluation import random_split
from nmfrec.exceptions import MissingColumnError
from nmfrec.io import (check_file, read_movielens_items, read_movielens_ratings,
                       read_ratings_file, read_titles_file)

U_ITEM_LINE = "{i}|Caf\xe9 {i} (1995)|01-Jan-1995||http://x|" + "|".join(["0"] * 18) + "|1\n"


# --------------------------------------------------------------------------- ratings files
def test_headerless_numbers_get_the_default_names(tmp_path):
    p = tmp_path / "u.data"
    p.write_text("1\t10\t5\t881250949\n2\t20\t3\t881250950\n")
    df = read_ratings_file(p)
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert df.values.tolist() == [[1, 10, 5, 881250949], [2, 20, 3, 881250950]]


def test_header_separator_and_names(tmp_path):
    p = tmp_path / "r.txt"
    p.write_text("a;b;c\n1;2;3.5\n")
    assert read_ratings_file(p).to_dict("list") == {"a": [1], "b": [2], "c": [3.5]}
    q = tmp_path / "r.dat"
    q.write_text("7::8::4::99\n")
    assert read_ratings_file(q).values.tolist() == [[7, 8, 4, 99]]
    t = tmp_path / "r.tsv"
    t.write_text("9\t8\t1\n")
    assert list(read_ratings_file(t, names="u,i,r").columns) == ["u", "i", "r"]
    assert list(read_ratings_file(t, sep="tab", names=["x", "y", "z"]).columns) == [
        "x", "y", "z"]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_file_separated_otherwise_than_by_commas_is_read_by_its_separator(tmp_path, sep):
    # spreadsheets in many locales save "CSV" with semicolons
    p = tmp_path / "ratings.csv"
    p.write_text(f"user{sep}item{sep}rating\n1{sep}10{sep}4\n2{sep}20{sep}3.5\n")
    assert read_ratings_file(p).to_dict("list") == {"user": [1, 2], "item": [10, 20],
                                                    "rating": [4.0, 3.5]}
    t = tmp_path / "titles.csv"
    t.write_text(f"item{sep}title\n10{sep}Ten, the film\n")
    assert read_titles_file(t).to_dict() == {10: "Ten, the film"}
    # a comma on the first line keeps the comma
    c = tmp_path / "commas.csv"
    c.write_text("user,item,rating\n1,10,4\n")
    assert list(read_ratings_file(c).columns) == ["user", "item", "rating"]


def test_spaces_after_the_separators_of_the_header_are_not_part_of_the_names(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user, item, rating\n007, 2, 4\n7, 3, 5\n")
    df = read_ratings_file(p)
    assert list(df.columns) == ["user", "item", "rating"]
    assert df["user"].tolist() == ["007", "7"] and df["item"].tolist() == [2, 3]


def test_a_line_with_too_many_fields_is_named_in_plain_words(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\n1,2,4\n1,3,5\n3,4,5,6\n")
    with pytest.raises(ValueError, match=r"^cannot parse .*r\.csv \(separator ','\): line 4 "
                       r"has 4 fields, but the lines before it have 3; is a separator") as e:
        read_ratings_file(p)
    assert "C error" not in str(e.value) and "tokenizing" not in str(e.value)


# --------------------------------------------------------------------------- ids as text
def _reference_ids(fields):
    """Reference rule, value by value: int64 when every field (stripped) is a plain
    integer that int64 holds, else the stripped texts."""
    texts = [f.strip() for f in fields]
    plain = all(t == str(int(t)) if t.lstrip("-").isdigit() and t.isascii() else False
                for t in texts) and not any(t == "-0" for t in texts)
    if plain and all(-2**63 <= int(t) < 2**63 for t in texts):
        return [int(t) for t in texts], "int64"
    return texts, "object"


ID_COLUMNS = [
    ["007", "7", "12"],           # leading zeros: 007 is not user 7
    ["+7", "7", "8"],             # a sign is part of the text
    ["7.0", "7", "8"],            # so is a decimal point
    ["7", "8", "12"],             # plain: integers
    ["-3", "0", "12"],            # a minus is plain
    ["-0", "0", "1"],             # but -0 is not 0
    [" 7", "8 ", " 12 "],         # white space is not part of an id: integers
    [" a", "7", "b "],
    ["99999999999999999999", "1", "2"],   # beyond int64: text
    ["0", "10", "100"],
]


@pytest.mark.parametrize("fields", ID_COLUMNS)
@pytest.mark.parametrize("chunk", [1 << 24, 12])   # 12: the scan sees 3 bytes at a time
def test_ids_keep_their_text_unless_all_are_plain_integers(tmp_path, monkeypatch, fields, chunk):
    monkeypatch.setattr(nmfrec_io, "_CHUNK", chunk)
    want, dtype = _reference_ids(fields)
    lines = [f"{u},{i},4\n" for u, i in zip(fields, ["1", "2", "3"])]
    for header, names in (("user,item,rating\n", {}), ("uid,iid,rating\n", {"id_cols": ["uid"]})):
        p = tmp_path / "r.csv"
        p.write_text(header + "".join(lines))
        df = read_ratings_file(p, **names)
        col = df.iloc[:, 0]
        assert col.tolist() == want and col.dtype == dtype
        assert df.iloc[:, 1].tolist() == [1, 2, 3]           # the plain item ids: int64
    # headerless, the ids in the second column; '::'-separated (the python parser)
    p = tmp_path / "r.dat"
    p.write_text("".join(f"1::{f}::4\n" for f in ["5", *fields]))   # a numeric first line
    assert read_ratings_file(p)["item"].tolist() == _reference_ids(["5", *fields])[0]


def test_007_and_7_are_two_users_and_titles_agree(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\n007,01,5\n007,2,1\n7,01,1\n7,2,5\n8,2,4\n")
    t = tmp_path / "titles.csv"
    t.write_text("item,title\n01,First\n2,Second\n")
    rec = Recommender(n_components=1, n_samples=5, preference_components=1,
                      random_state=0).fit(read_ratings_file(p), item_titles=read_titles_file(t))
    assert rec.users_.labels_.tolist() == ["007", "7", "8"]
    assert rec.items_.labels_.tolist() == ["01", "2"]
    assert rec.item_titles_.tolist() == ["First", "Second"]


# --------------------------------------------------------------------------- rows to lines
def _data_lines(text, header_lines):
    """Reference: the line (from 1) of each data row, the non-blank lines after the header."""
    lines = [n for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    return lines[header_lines:]


@pytest.mark.parametrize("text, header", [
    ("user,item,rating\n1,2,3\n1,3,4\n2,4,5\n", 1),
    ("user,item,rating\n1,2,3\n\n   \n1,3,4\n\n2,4,5\n\n\n", 1),
    ("\n\nuser,item,rating\r\n1,2,3\r\n\r\n1,3,4\r\n2,4,5", 1),
    ("1\t2\t3\n\n1\t3\t4\n2\t4\t5\n", 0),
])
def test_each_row_is_located_on_its_line_of_the_file(tmp_path, text, header):
    p = tmp_path / "r.csv"
    p.write_bytes(text.encode())
    df = read_ratings_file(p, sep="," if header else "tab")
    lines = _data_lines(text, header)
    assert len(df) == len(lines) == 3
    for pos, line in enumerate(lines):
        assert locate_row(df, pos) == f"row {pos} (line {line} of {p})"
    # labels, not positions: selecting and sorting keep the lines
    back = df.iloc[::-1]
    assert locate_row(back, 0) == f"row 2 (line {lines[2]} of {p})"
    assert locate_row(df[["rating"]].iloc[1:], 0) == f"row 1 (line {lines[1]} of {p})"


def test_a_quoted_field_over_two_lines_gives_rows_not_wrong_lines(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('user,item,rating,note\n1,2,3,"two\nlines"\n1,3,x,ok\n')
    df = read_ratings_file(p)
    assert locate_row(df, 1) == f"row 1 (of {p})"     # the file has a line more than rows
    with pytest.raises(TypeError, match=r"'x' at row 1 \(of .*r.csv\) is not a number"):
        Recommender().fit(df)


def test_a_parquet_file_is_named_without_lines(tmp_path):
    pytest.importorskip("pyarrow")
    p = tmp_path / "r.parquet"
    pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [4.0, -1.0]}).to_parquet(p)
    with pytest.raises(ValueError, match=rf"1 negative values \(first at row 1 \(of {p}\): -1\.0\)"):
        Recommender().fit(read_ratings_file(p))


BAD_FILES = [
    # a rating that is not a number: the first such value, not the first value
    ("user,item,rating\n1,1,1\n1,2,4\n\n2,1,five\n2,2,x\n", TypeError,
     r"column 'rating' must hold numeric ratings; 'five' at row 2 \(line 5 of {p}\) is not "
     r"a number \(2 such rows in all\)"),
    ("user,item,rating\n1,1,1\n1,2,\n", ValueError,
     r"column 'rating' contains 1 NaN values \(first at row 1 \(line 3 of {p}\)\)"),
    ("user,item,rating\n1,1,1\n\n1,2,-3\n", ValueError,
     r"1 negative values \(first at row 1 \(line 4 of {p}\): -3\.0\)"),
    ("user,item,rating\n1,1,1\n2,1,2\n1,1,4\n", ValueError,
     r"1 duplicate \(user, item\) pairs; e.g. row 0 \(line 2 of {p}\): user=1, item=1, "
     r"again at row 2 \(line 4 of {p}\)"),
    ("user,item,rating\n1,1,1\n,2,4\n", ValueError,
     r"column 'user' has 1 missing ids; e.g. row 1 \(line 3 of {p}\)"),
    # not a column fit recognises as ids, so the reader typed it as numbers
    ("who,item,rating\n1,1,1\n2.5,2,4\n", TypeError,
     r"column 'who' holds non-integral numbers \(e.g. 2.5 at row 1 \(line 3 of {p}\)\)"),
]


@pytest.mark.parametrize("text, exc, match", BAD_FILES)
def test_errors_about_a_row_of_a_file_name_its_line(tmp_path, text, exc, match):
    p = tmp_path / "r.csv"
    p.write_text(text)
    df = read_ratings_file(p)
    with pytest.raises(exc, match=match.format(p=re.escape(str(p)))):
        Recommender().fit(df, user_col="who" if "who" in df else None)


def test_the_checks_of_splits_name_the_line_too(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\n1,1,1\n\n2,1,2\n1,1,4\n")
    with pytest.raises(ValueError, match=rf"user=1, item=1 at row 2 \(line 5 of {re.escape(str(p))}\)"):
        random_split(read_ratings_file(p), test_size=0.5, random_state=0)


@pytest.mark.parametrize("content, kwargs, err, match", [
    (None, {}, FileNotFoundError, r"ratings file '.*nope.csv' does not exist"),
    ("", {}, ValueError, r"ratings file '.*r.csv' is empty"),
    ("user,item,rating\n", {}, ValueError, r"'.*r.csv' has no data rows"),
    ("1,2,3\n1,2,3,4,5\n", {}, ValueError, r"cannot parse .*r.csv \(separator ','\).*line 2"),
    ("1,2,3\n", {"names": "a,a,b"}, ValueError, "names must be distinct column names"),
])
def test_ratings_file_errors(tmp_path, content, kwargs, err, match):
    p = tmp_path / ("nope.csv" if content is None else "r.csv")
    if content is not None:
        p.write_text(content)
    with pytest.raises(err, match=match):
        read_ratings_file(p, **kwargs)


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(ValueError, match="is a directory, not a file"):
        read_ratings_file(tmp_path)
    with pytest.raises(ValueError, match="model file .* is a directory"):
        check_file(tmp_path, "model file")
    assert check_file(__file__) .name == "test_io.py"


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    p = tmp_path / "r.parquet"
    pd.DataFrame({"u": [1], "i": [2], "r": [3.0]}).to_parquet(p)
    assert list(read_ratings_file(p, names="user,item,rating").columns) == [
        "user", "item", "rating"]
    with pytest.raises(ValueError, match="names gives 2 names but .* has 3 columns"):
        read_ratings_file(p, names="a,b")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="cannot read .*bad.parquet as Parquet"):
        read_ratings_file(bad)


# --------------------------------------------------------------------------- titles files
def test_titles_from_each_format(tmp_path):
    u_item = tmp_path / "u.item"
    u_item.write_bytes("".join(U_ITEM_LINE.format(i=i) for i in (1, 2)).encode("latin-1"))
    assert read_titles_file(u_item).to_dict() == {1: "Café 1 (1995)", 2: "Café 2 (1995)"}
    dat = tmp_path / "movies.dat"
    dat.write_bytes("5::Léon: The Professional (1994)::Drama\n".encode("latin-1"))
    assert read_titles_file(dat).to_dict() == {5: "Léon: The Professional (1994)"}
    mcsv = tmp_path / "movies.csv"
    mcsv.write_text('movieId,title,genres\n11,"President, The (1995)",Comedy\n')
    assert read_titles_file(mcsv).to_dict() == {11: "President, The (1995)"}
    own = tmp_path / "songs.csv"
    own.write_text("song,title\na,Alpha\n7,Seven\n")
    # ids as a ratings file's: text unless all are plain integers
    assert read_titles_file(own).to_dict() == {"a": "Alpha", "7": "Seven"}
    piped = tmp_path / "t.txt"  # a generic '|' file is not u.item
    piped.write_text("item|title|year\n1|One|1999\n")
    assert read_titles_file(piped).to_dict() == {1: "One"}


@pytest.mark.parametrize("content, match", [
    ("", "titles file .* is empty"),
    ("id,year\n1,1999\n", r"needs an item column .* it has columns \['id', 'year'\]"),
    ('a,b\n"1,x\n', "cannot parse titles file"),
    ("1::Only two fields\n2::Title::Drama::extra\n", r"t.csv, line 1: expected MovieID::Title"),
])
def test_titles_file_errors(tmp_path, content, match):
    p = tmp_path / "t.csv"
    p.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_titles_file(p)
    with pytest.raises(FileNotFoundError, match="titles file .* does not exist"):
        read_titles_file(tmp_path / "none.csv")


def test_titles_file_without_a_title_column_is_a_missing_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("item,year\n1,1999\n")
    with pytest.raises(MissingColumnError, match=r"needs an item column .* and a title column "
                                                 r"\(title or name\); it has columns "
                                                 r"\['item', 'year'\]"):
        read_titles_file(p)


# --------------------------------------------------------------------------- MovieLens formats
def test_movielens_ratings_are_typed(tmp_path):
    p = tmp_path / "u1.base"
    p.write_text("1\t2\t3\t4\n5\t6\t7\t8\n")
    df = read_movielens_ratings(p)
    assert [str(t) for t in df.dtypes] == ["int64", "int64", "float64", "int64"]
    assert df.values.tolist() == [[1, 2, 3.0, 4], [5, 6, 7.0, 8]]


@pytest.mark.parametrize("name, content, match", [
    ("u.data", "1\t2\t3\t4\n5\t6\t\t8\n", r"u.data, line 2: missing field\(s\)"),
    ("u.data", "1\t2\t3\t4\n5\tsix\t7\t8\n", r"u.data, line 2: non-numeric field\(s\)"),
    ("ratings.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,x,3,4\n",
     r"ratings.csv, line 3: non-numeric"),
    ("ratings.csv", "user,item,rating,timestamp\n1,2,3,4\n",
     r"ratings.csv: expected header userId,movieId,rating,timestamp on line 1"),
    ("ratings.dat", "1::1::5\n", "could not parse .*ratings.dat"),
])
def test_movielens_ratings_errors_name_file_and_line(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_movielens_ratings(p)


def test_movielens_format_names(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("1\t2\t3\t4\n")
    with pytest.raises(ValueError, match="fmt must be one of '100k', 'dat', 'csv'; got 'xml'"):
        read_movielens_ratings(p, fmt="xml")
    with pytest.raises(ValueError, match="not a MovieLens items file"):
        read_movielens_items(p)


@pytest.mark.parametrize("name, content, match", [
    ("u.item", "1|Title|x\n", r"u.item: expected 24 '\|'-separated fields per line; got 3"),
    ("u.item", U_ITEM_LINE.format(i=1) + U_ITEM_LINE.format(i="x"),
     r"u.item, line 2: the item id 'x' is not an integer"),
    ("movies.dat", "1::A::Drama\nx::B::Drama\n", r"movies.dat, line 2: expected MovieID"),
    ("movies.csv", "id,title,genres\n1,A,B\n",
     "movies.csv: expected header movieId,title,genres on line 1"),
])
def test_movielens_items_errors_name_file_and_line(tmp_path, name, content, match):
    p = tmp_path / name
    p.write_bytes(content.encode("latin-1"))
    with pytest.raises(ValueError, match=match):
        read_movielens_items(p)


def test_movielens_items_genres(tmp_path):
    p = tmp_path / "u.item"
    p.write_bytes(U_ITEM_LINE.format(i=3).encode("latin-1"))
    items = read_movielens_items(p)
    assert items.index.tolist() == [3] and items.index.name == "item"
    assert items.loc[3, "genres"] == "Western" and items.loc[3, "title"] == "Café 3 (1995)"
    assert np.dtype(items.index.dtype) == np.int64
