#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/.

    tests/fuzz/make_corpus.py [--descent build/check/bin/descent]

The seeds are the files the loader and parser tests use (tests/data/*_test.cpp,
tests/io/safetensors_test.cpp, tests/nn/model_test.cpp,
tests/optim/schedule_test.cpp, tests/optim/stepper_test.cpp), well-formed and
malformed, written out as files; a few real ones: the first images of
Fashion-MNIST (/usr/share/datasets/fashion-mnist, from the Debian package
dataset-fashion-mnist) as IDX, CSV and LIBSVM; and, with --descent, the
checkpoints and model files `descent train` writes. Seeds that need what is
not there are left as they are. Every file is written the same way each run
(gzip without a time stamp), so a run changes nothing that is up to date.
"""

import argparse
import gzip
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FASHION = "/usr/share/datasets/fashion-mnist"


def write(target, name, content):
    if isinstance(content, str):
        content = content.encode("latin-1")
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(content)


def gz(data):
    return gzip.compress(data, mtime=0)


# ---------------------------------------------------------------------------
# Fashion-MNIST, the real data: a few images and their labels.

def fashion(count):
    """(pixels, labels) of the first `count` training images, or None."""
    images = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    labels = os.path.join(FASHION, "train-labels-idx1-ubyte.gz")
    if not (os.path.exists(images) and os.path.exists(labels)):
        print(f"make_corpus: no {FASHION}: the Fashion-MNIST seeds are left as they are", file=sys.stderr)
        return None
    with gzip.open(images) as f:
        pixels = f.read(16 + count * 784)[16:]
    with gzip.open(labels) as f:
        tags = f.read(8 + count)[8:]
    return pixels, tags


# ---------------------------------------------------------------------------
# CSV (tests/data/csv_test.cpp)

CSV = {
    "numbers": "1,2.5,0\n-3,4e2,1\n5, 6 ,2\n",
    "cr-line-endings": "a,b,y\r1,2,0\r3,4,1\r\r5,6,0",
    "header-of-numbers-with-a-typo": "1.0,2.o,0\n1,2,1\n3,4,0\n",
    "class-id-a-million": "a,b,y\n1,2,0\n2,3,1000000\n3,4,1\n",
    "header": "width,height,kind\n1,2,0\n3,4,1\n",
    "label-by-name": "rooms,price,age\n3,250.5,10\n4,300,20\n",
    "label-by-index": "1,10,11\n0,20,21\n",
    "header-name-like-index": "a,0,b\n1,2,3\n",
    "numeric-header": "1,2,3\n4,5,6\n",
    "named-first-row": "a,b\n1,2\n",
    "missing-first-row": "NA,1,0\n4,3,1\n",
    "impute": "a,b,y\n1,NA,0\n,10,1\n3,nan,0\n2,20,1\n4, ,0\n",
    "missing-rejected": "a,b,y\n1,2,0\n3,NA,1\n",
    "missing-empty": "1,2,0\n3,,1\n",
    "missing-label": "a,y\n1,0\n2,NA\n",
    "all-missing": "a,b,y\n1,,0\n2,NA,1\n",
    "not-a-number": "1,2,3\n4,abc,6\n",
    "not-a-number-label": "x,y\n\n1,2\n3,4x\n",
    "beyond-float32": "1,2\n1e39,0\n",
    "infinity": "1,2\ninf,0\n",
    "overflow": "1,2\n1e999,0\n",
    "underflow": "1e-999,0\n",
    "short-row": "1,2,3,4,5\n1,2,3,4\n",
    "long-row": "a,b\n1,2\n1,2,3\n",
    "trailing-delimiter": "1,2,0\n1,2,0,\n",
    "crlf-blank-lines": "x,y\r\n1,0\r\n\r\n   \r\n2,1",
    "crlf-bad-value": "x,y\r\n\r\n1,0\r\n\r\n2,oops\r\n",
    "byte-order-mark": "\xef\xbb\xbfx,y\n1,0\n",
    "quoted": "\"a \"\"big\"\" one\",\"b, c\",y\n\"1.5\", 2 ,\"0\"\n",
    "unterminated-quote": "a,y\n\"1,0\n",
    "text-after-quote": "a,y\n\"1\"x,0\n",
    "semicolons": "a;b;y\n1.5;2;0\n",
    "semicolons-decimal-comma": "1,5;2;0\n",
    "tabs": "a\tb\ty\n 1 \t2\t0\n",
    "quote-delimiter": "1\"2\n",
    "empty": "",
    "blank-lines-only": "\n  \n\r\n",
    "header-only": "a,b,c\n\n",
    "single-column": "1\n2\n",
    "three-columns": "a,b,c\n1,2,3\n",
    "no-header": "1,2,3\n",
    "repeated-name": "price,price\n1,2\n",
    "long-garbage": "1,2\n1," + "z" * 5000 + "\n",
    "nul-byte": "1,2\n1,a\0b\n",
    "mutation-base": "width,\"height\",kind\r\n1.5,2,0\n3,4e1,1\n\n-5,NA,2\n7,8,1",
}


def csv_seeds(real):
    for name, text in CSV.items():
        write("csv", name + ".csv", text)
    columns = 300
    wide = "".join(",".join(str(row * columns + c) for c in range(columns)) + "\n" for row in range(2))
    write("csv", "wide.csv", wide)
    if real:
        pixels, labels = real
        rows = ["label," + ",".join(f"pixel{k + 1}" for k in range(784))]
        for i, label in enumerate(labels):
            rows.append(f"{label}," + ",".join(str(p) for p in pixels[i * 784:(i + 1) * 784]))
        write("csv", "fashion-mnist-3.csv", "\n".join(rows) + "\n")


# ---------------------------------------------------------------------------
# IDX (tests/data/idx_test.cpp)

def be32(v):
    return struct.pack(">I", v)


def idx(dims, data=b"", element_type=0x08):
    return bytes([0, 0, element_type, len(dims)]) + b"".join(be32(d) for d in dims) + data


def counting(n, offset=0):
    return bytes((k * 7 + offset) % 256 for k in range(n))


def idx_seeds(real):
    images = idx([4, 2, 3], counting(24))
    labels = idx([4], bytes([3, 0, 2, 1]))
    compressed = gz(images)
    corrupt = bytearray(compressed)
    corrupt[-5] ^= 0x55
    seeds = {
        "images": images,
        "labels": labels,
        "images.gz": compressed,
        "labels.gz": gz(labels),
        "images-2d": idx([2, 5], counting(10)),
        "images-4d": idx([2, 2, 2, 3], counting(24)),
        "images-extremes": idx([2, 1], b"\x00\xff"),
        "labels-2": idx([2], b"\x01\x00"),
        "wrong-magic": b"\x01\x02\x08\x03" + be32(4) + be32(2) + be32(3) + counting(24),
        "compressed-twice.gz": gz(compressed),
        "float32": idx([4, 2, 3], counting(96), 0x0D),
        "no-idx-type": idx([4, 2, 3], counting(24), 0x05),
        "rank-1-images": idx([4], counting(4)),
        "rank-5": idx([1, 1, 1, 1, 4], counting(4)),
        "rank-2-labels": idx([4, 1], bytes([1, 2, 3, 0])),
        "zero-size": idx([4, 0, 3]),
        "more-than-2-31-elements": idx([65535, 65535, 65535], counting(24)),
        "2-32-elements": idx([4096, 1024, 1024]),
        "claims-more-than-it-holds": idx([60000, 28, 28], counting(10)),
        "one-pixel-short": idx([4, 2, 3], counting(23)),
        "inside-magic": images[:2],
        "inside-header": images[:10],
        "empty": b"",
        "cut-gzip.gz": gz(idx([4, 2, 3], bytes(24)))[:-6],
        "corrupt-gzip.gz": bytes(corrupt),
        "extra-byte": images + b"x",
        "labels-3": idx([3], bytes([1, 2, 0])),
        # Headers with extreme counts: the most rows a dimension can claim,
        # and gzip streams that really inflate to what they claim (a few KiB
        # that become megabytes).
        "claims-2-31-minus-1-rows": idx([2 ** 31 - 1, 1, 1], counting(100)),
        "labels-claim-2-32-minus-1": idx([2 ** 32 - 1], counting(100)),
        "inflates-to-its-claim.gz": gz(idx([8192, 28, 28], bytes(8192 * 784))),
        "labels-inflate-to-their-claim.gz": gz(idx([1 << 22], bytes(1 << 22))),
        "inflates-past-its-claim.gz": gz(idx([16, 28, 28], bytes(1 << 22))),
    }
    for name, content in seeds.items():
        write("idx", name, content)
    if real:
        pixels, tags = real
        count = len(tags)
        write("idx", f"fashion-mnist-{count}-images", idx([count, 28, 28], pixels))
        write("idx", f"fashion-mnist-{count}-images.gz", gz(idx([count, 28, 28], pixels)))
        write("idx", f"fashion-mnist-{count}-labels", idx([count], tags))
        write("idx", f"fashion-mnist-{count}-labels.gz", gz(idx([count], tags)))


# ---------------------------------------------------------------------------
# LIBSVM (tests/data/libsvm_test.cpp)

LIBSVM = {
    "sparse": "1 1:0.5 3:2\n0 2:-1.5e1   # a comment\n2\n",
    "signs-and-tabs": "+1\t1:1\n-1 2:1\t\n",
    "one-index": "1 2:1\n",
    "index-beyond-count": "1 2:1\n0 6:1\n",
    "crlf-comments": "# header comment\r\n\r\n1 1:1\r\n   \r\n0 2:2",
    "crlf-bad-value": "# c\r\n\r\n1 1:1\r\n0 2:x\r\n",
    "out-of-order": "1 3:1 2:1\n",
    "repeated-index": "1 3:1 3:2\n",
    "index-zero": "1 0:1\n",
    "negative-index": "1 -2:1\n",
    "fractional-index": "1 1.5:1\n",
    "empty-index": "1 :1\n",
    "huge-index": "1 99999999999999999999999:1\n",
    "index-2-31": "1 2147483648:1\n",
    "no-colon": "1 1:1\n1 2\n",
    "empty-value": "1 1:\n",
    "value-overflow": "1 1:1e999\n",
    "bad-label": "abc 1:1\n",
    "pair-first": "1:1 2:2\n",
    "multi-label": "1,2 1:1\n",
    "qid": "1 qid:3 1:1\n",
    "nan-label": "nan 1:1\n",
    "empty": "",
    "comments-only": "# only\n\n# comments\n",
    "dense-beyond-2-31": "1 1:1 2000000000:1\n" * 4,
    "mutation-base": "1 1:0.5 3:2 # c\n0 2:-1.5e1\r\n\n-1 1:1 2:2 3:3 4:4\n+1 4:0.25",
    "cr-line-endings": "+1 1:0.5\r-1 2:2\r# c\r+1 1:1 2:1\r",
}


def libsvm_seeds(real):
    for name, text in LIBSVM.items():
        write("libsvm", name + ".svm", text)
    if real:
        pixels, labels = real
        lines = []
        for i, label in enumerate(labels):
            row = pixels[i * 784:(i + 1) * 784]
            lines.append(" ".join([str(label)] + [f"{k + 1}:{p / 255:.6g}" for k, p in enumerate(row) if p]))
        write("libsvm", "fashion-mnist-3.svm", "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# safetensors (tests/io/safetensors_test.cpp)

DTYPE_FORMATS = {"F32": "<f", "F64": "<d", "I64": "<q", "I32": "<i", "U8": "<B"}


def le64(n):
    return struct.pack("<Q", n)


def file_of(header, data=b""):
    if isinstance(header, str):
        header = header.encode("utf-8", "surrogateescape")
    return le64(len(header)) + header + data


def entry(dtype, shape, offsets):
    return '{"dtype":"%s","shape":%s,"data_offsets":%s}' % (dtype, shape, offsets)


def serialize(tensors, metadata=None):
    """As SafetensorsWriter::serialize: metadata first, tensors in order,
    the header padded with spaces to a multiple of 8 bytes."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    data = b""
    for name, dtype, shape, payload in tensors:
        if not isinstance(payload, bytes):
            payload = b"".join(struct.pack(DTYPE_FORMATS[dtype], v) for v in payload)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return le64(len(text)) + text + data


def safetensors_seeds():
    i64 = [-(2 ** 63), -1, 0, 2 ** 63 - 1]
    nan_bits = struct.pack("<I", 0x7FC12345) + struct.pack("<I", 0xFFA00001)
    truncated = serialize([("a", "F32", [3], [1.5, -2.0, 3.25]), ("b", "I64", [], [7]), ("c", "F64", [0], [])],
                          {"epoch": "4"})
    deep = "[" * 2000 + "]" * 2000
    seeds = {
        "every-dtype": serialize([("layer.weight", "F32", [2, 3], [0.5, -1.25, 3.0, 1e-30, 7.0, -8.5]),
                                  ("f64", "F64", [4], [1 / 3, -2.5e300, 0.0, 4.0]),
                                  ("steps", "I64", [2, 2], i64),
                                  ("i32", "I32", [3], [-(2 ** 31), 42, 2 ** 31 - 1]),
                                  ("mask", "U8", [5, 1], [0, 1, 127, 128, 255])]),
        "scalars-and-empties": serialize([("lr", "F32", [], [3.14159]), ("empty_first", "F64", [0], []),
                                          ("empty_second", "F32", [3, 0], []), ("step", "I64", [], [1234]),
                                          ("empty_last", "U8", [0, 5], [])]),
        "nan-infinity": serialize([("f", "F32", [2], nan_bits),
                                   ("d", "F64", [2], [math.inf, -0.0])]),
        "metadata": serialize([], {"format": "pt", "note": "a \"quoted\"\nline, caf\u00e9, \u2207f",
                                   "step": "2", "": ""}),
        "raw-dtypes": serialize([("half", "BF16", [3], bytes([0x80, 0x3F, 0x00, 0xC0, 0x80, 0x7F])),
                                 ("flags", "BOOL", [2, 2], bytes([1, 0, 1, 1]))]),
        "tiny": serialize([("x", "F32", [2], [1.0, -2.0])]),
        "empty-writer": serialize([]),
        "two-tensors": serialize([("x", "F32", [2, 3], [1, 2, 3, 4, 5, 6]), ("n", "I64", [1], [3])]),
        "python-order": file_of('{"__metadata__":{"format":"pt"},'
                                '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},'
                                '"bias":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}',
                                struct.pack("<q", -3) + struct.pack("<4f", 1, 2, 3, 4)),
        "escaped-names": file_of('{\n  "caf\\u00e9 \\"q\\"" : {"shape": [ ], "extra": {"x": [1, 2]},\n'
                                 '   "data_offsets": [0, 1], "dtype": "U8"}\n}\t  ', b"\x2a"),
        "empty-huge-dimensions": file_of('{"e":' + entry("F64", "[4294967296,4294967296,0]", "[0,0]") + "}"),
        "shorter-than-8": b"\x02\x00\x00",
        "empty": b"",
        "header-length-2-40": le64(1 << 40) + b"{}",
        "header-length-max": le64(2 ** 64 - 1) + b"{}",
        "header-past-end": le64(100) + b"{}",
        "not-json": file_of('{"a": }'),
        "empty-header": file_of(""),
        "nul-after-json": file_of(b"{}\0\0"),
        "nul-in-key": file_of(b'{"a\0": 1}'),
        "invalid-utf8": file_of(b'{"\xff": 1}'),
        "number-overflow": file_of('{"a": 1e999}'),
        "array-header": file_of("  [1, 2]"),
        "string-header": file_of('"w"'),
        "leading-space": file_of(" {}"),
        "byte-order-mark": file_of(b"\xef\xbb\xbf{}"),
        "entry-not-object": file_of('{"w": 3}'),
        "no-dtype": file_of('{"w":{"shape":[1],"data_offsets":[0,1]}}', b"x"),
        "no-shape": file_of('{"w":{"dtype":"U8","data_offsets":[0,1]}}', b"x"),
        "no-offsets": file_of('{"w":{"dtype":"U8","shape":[1]}}', b"x"),
        "dtype-number": file_of('{"w":{"dtype":5,"shape":[1],"data_offsets":[0,1]}}', b"x"),
        "shape-string": file_of('{"w":' + entry("U8", '"1"', "[0,1]") + "}", b"x"),
        "shape-fraction": file_of('{"w":' + entry("U8", "[2.5]", "[0,1]") + "}", b"x"),
        "one-offset": file_of('{"w":' + entry("U8", "[1]", "[0]") + "}", b"x"),
        "offsets-object": file_of('{"w":' + entry("U8", "[1]", "{}") + "}", b"x"),
        "negative-offset": file_of('{"w":' + entry("U8", "[1]", "[-1,0]") + "}", b"x"),
        "negative-dimension": file_of('{"w":' + entry("F32", "[2,-3]", "[0,0]") + "}"),
        "size-overflow": file_of('{"w":' + entry("F32", "[4294967296,4294967296]", "[0,0]") + "}"),
        "dimension-2-63": file_of('{"w":' + entry("U8", "[9223372036854775808]", "[0,0]") + "}"),
        "dimension-huge": file_of('{"w":' + entry("U8", "[99999999999999999999]", "[0,0]") + "}"),
        "unknown-dtype": file_of('{"w":' + entry("F17", "[1]", "[0,4]") + "}", b"abcd"),
        "offsets-backwards": file_of('{"w":' + entry("U8", "[0]", "[8,0]") + "}", b"x" * 8),
        "offsets-disagree-with-shape": file_of('{"w":' + entry("F32", "[2]", "[0,4]") + "}", b"abcd"),
        "past-the-end": file_of('{"w":' + entry("F32", "[2]", "[0,8]") + "}", b"abcd"),
        "gap": file_of('{"a":' + entry("U8", "[4]", "[0,4]") + ',"b":' + entry("U8", "[4]", "[8,12]") + "}",
                       b"x" * 12),
        "gap-first": file_of('{"a":' + entry("U8", "[4]", "[4,8]") + "}", b"x" * 8),
        "overlap": file_of('{"a":' + entry("F32", "[2]", "[0,8]") + ',"b":' + entry("F32", "[2]", "[4,12]") + "}",
                           b"x" * 12),
        "empty-inside-another": file_of('{"a":' + entry("F32", "[2]", "[0,8]") + ',"e":' +
                                        entry("F32", "[0]", "[4,4]") + "}", b"x" * 8),
        "data-beyond-last": file_of('{"a":' + entry("U8", "[2]", "[0,2]") + "}", b"xyz"),
        "data-without-tensors": file_of("{}", b"x"),
        "metadata-array": file_of('{"__metadata__": ["a"]}'),
        "metadata-number": file_of('{"__metadata__": {"ok": "yes", "epoch": 3}}'),
        "metadata-null": file_of('{"__metadata__": {"k": null}}'),
        "repeated-key": file_of('{"a":' + entry("U8", "[1]", "[0,1]") + ', "a":' + entry("U8", "[1]", "[0,1]") +
                                "}", b"x"),
        "repeated-field": file_of('{"w": {"dtype": "U8", "dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}',
                                  b"x"),
        "deep-header": file_of(deep),
        "deep-shape": file_of('{"w":' + entry("U8", deep, "[0,1]") + "}", b"x"),
        "deep-offsets": file_of('{"w":' + entry("U8", "[1]", "[" + deep + ",1]") + "}", b"x"),
        # A saved model whose spec claims far more parameters than the file
        # stores, and one whose weights are not finite.
        "spec-claims-more-than-stored": serialize([("0.weight", "F32", [1, 2], [1.0, 2.0]),
                                                   ("0.bias", "F32", [1], [0.0])],
                                                  {"model": "mlp:2-100000-100000-2", "loss": "bce"}),
        "weights-not-finite": serialize([("0.weight", "F32", [1, 2], [1.0, math.nan]), ("0.bias", "F32", [1], [0.0])],
                                        {"model": "logistic:2", "loss": "bce"}),
        "truncated-header": truncated[:40],
        "truncated-data": truncated[:-3],
    }
    for name, content in seeds.items():
        write("safetensors", name + ".safetensors", content)


def train_seeds(descent):
    """Checkpoints and a model file written by `descent train` on a small
    CSV, one checkpoint per kind of optimizer state."""
    if not descent:
        print("make_corpus: no --descent: the checkpoint and model seeds are left as they are", file=sys.stderr)
        return
    runs = {
        "adam": ["--optimizer", "adam"],
        "sgd-momentum": ["--optimizer", "momentum"],
        "muon": ["--optimizer", "muon"],
        "adafactor": ["--optimizer", "adafactor"],
        "prodigy": ["--optimizer", "prodigy"],
        "schedule-free-adamw": ["--optimizer", "schedule-free-adamw"],
        "adam-lookahead": ["--optimizer", "adam", "--lookahead", "5,0.5"],
    }
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "data.csv")
        with open(data, "w") as f:
            f.write("a,b,c,y\n" + "".join(f"{i % 5},{(i * 3) % 7},{i / 10},{i % 3}\n" for i in range(20)))
        for name, flags in runs.items():
            checkpoint = os.path.join(work, "checkpoint.safetensors")
            model = os.path.join(work, "model.safetensors")
            subprocess.run([descent, "train", "--data", data, "--model", "mlp:3-4-3", "--epochs", "1",
                            "--batch-size", "8", "--seed", "1", "--threads", "1", "--checkpoint", checkpoint,
                            "--save", model] + flags, check=True, stdout=subprocess.DEVNULL)
            shutil.copy(checkpoint, os.path.join(CORPUS, "safetensors", f"checkpoint-{name}.safetensors"))
            if name == "adam":
                shutil.copy(model, os.path.join(CORPUS, "safetensors", "model-mlp.safetensors"))


# ---------------------------------------------------------------------------
# Model specs (tests/nn/model_test.cpp), schedules
# (tests/optim/schedule_test.cpp), stepper flags (tests/optim/stepper_test.cpp,
# tests/cli/minimize_cli_test.cpp)

MODEL_SPECS = [
    "mlp:784-256-128-10", "mlp:5-7-6-3:relu", "mlp:5-7-6-3:leaky_relu", "mlp:5-7-6-3:tanh", "mlp:5-7-6-3:sigmoid",
    "mlp:4-5-3:gelu", "cnn:lenet", "linear:3", "linear:3-2", "logistic:3", "logistic:3-4", "mlp:3-8-1:tanh",
    "mlp", "mlp:784", "mlp:784-0-10", "mlp:784-x-10", "mlp:4-3:swish", "cnn:resnet", "logistic:4-1",
    "linear:2-3-4", "tree:3", "mlp:4294967296-4294967296",
]

SCHEDULES = [
    "constant", "step:30", "step:30:0.5", "multistep:100", "multistep:100,150,175:0.2", "exponential:0.95",
    "inverse-time:1e-3", "polynomial:2:500", "cosine:1000", "cosine:1000:1e-5", "cosine-restarts:10",
    "cosine-restarts:10:2", "cosine-restarts:10:2:0.001", "one-cycle:0.25:800", "warmup:500+cosine:1000",
    "warmup:500:0.1+step:30", "warmup:0+exponential:0.9", "cosine", "polynomial", "polynomial:3", "one-cycle",
    "one-cycle:0.1", "warmup:100+cosine", "warmup:100+polynomial", "warmup:5000+cosine", "cosine::1e-5",
    "polynomial::300", "one-cycle::300", "cosine-restarts:10::0.01", "warmup:10:+cosine:50", "step:1e3",
    "cosine:2.5e4", "warmup:1e+2+cosine:1e+3:1e-6", "cosine:1E+3",
    "", "cosin", "Step:10", "step", "step:", "exponential", "inverse-time", "multistep", "cosine-restarts",
    "constant:1", "step:10:0.5:2", "cosine:10:0:1", "step:-3", "step:0", "step:ten", "step:1.5", "step: 10",
    "step:10:half", "step:10:1.5", "exponential:nan", "exponential:-0.5", "inverse-time:inf", "inverse-time:-1",
    "cosine:100:NaN", "cosine:-5", "cosine:0x10", "polynomial:-1", "polynomial:1:0", "cosine-restarts:10:1.5",
    "cosine-restarts:10:0", "one-cycle:1.5", "multistep:", "multistep:10,10", "multistep:30,20",
    "multistep:10,,20", "multistep:10,20,", "multistep:0,20", "multistep:-5", "warmup:10", "warmup:10+",
    "warmup+cosine", "warmup:ten+cosine", "warmup:-1+cosine", "warmup:10:0+cosine", "warmup:10:2+cosine",
    "warmup:10:0.5:1+cosine", "warmup:10+warmup:10+cosine", "cosine+step:10", "+cosine", "warmup:10:1e+cosine",
    "warmup:10+one-cycle", "warmup:10+plateau:5",
    "plateau", "plateau:5", "plateau:5:0.5", "plateau::0.5", "plateau:0", "plateau:-1", "plateau:3:1",
    "plateau:3:nan", "plateau:x", "plateau:3:0.5:1", "plateaux", "warmup:5+plateau",
]

STEPPERS = {
    "sgd": "sgd\n", "momentum": "momentum\nmomentum=0.9\ndampening=0.1\n", "nesterov": "nesterov\nnesterov\n",
    "adagrad": "adagrad\nlr_decay=0.01\ninitial_accumulator_value=0.1\neps=1e-10\n",
    "rmsprop": "rmsprop\nalpha=0.9\nmomentum=0.5\n", "rmsprop-centered": "rmsprop-centered\n",
    "adadelta": "adadelta\nrho=0.9\n", "adam": "adam\nbeta1=0.8\nbeta2=0.99\neps=1e-6\nweight_decay=0.1\n",
    "adamw": "adamw\nbeta2=0.99\n", "amsgrad": "amsgrad\n", "adamax": "adamax\n",
    "nadam": "nadam\nmomentum_decay=0.004\n", "radam": "radam\n", "lion": "lion\nbeta1=0.9\nbeta2=0.99\n",
    "adafactor": "adafactor\nbeta2_decay=-0.8\neps1=1e-30\neps2=1e-3\nclip_threshold=1\nscale_parameter=1\n",
    "schedule-free-sgd": "schedule-free-sgd\nmomentum=0.9\nr=0\nweight_lr_power=2\n",
    "schedule-free-adamw": "schedule-free-adamw\nbeta1=0.9\nweight_decay=0.01\n",
    "prodigy": "prodigy\nd0=1e-6\nd_coef=1\ngrowth_rate=1e300\nbeta3=0.99\n",
    "muon": "muon\nmomentum=0.95\nnesterov=1\nns_steps=5\nrms_matching=1\nadam_beta1=0.9\n",
    "lookahead": "adam\nlookahead=5,0.5\nclip_norm=10\nl1=0.001\n",
    "unknown-method": "adamm\n", "unknown-hyperparameter": "adam\nmomentum=0.9\n",
    "beta1-one": "adam\nbeta1=1\n", "nesterov-without-momentum": "sgd\nnesterov=1\n",
    "ns-steps-zero": "muon\nns_steps=0\n", "lookahead-k-zero": "adam\nlookahead_k=0\n",
    "negative-clip": "adam\nclip_norm=-1\n", "hp-without-value": "adam\nbeta2\n",
    "bad-lookahead": "adam\nlookahead=5\n",
}


def text_seeds():
    for k, spec in enumerate(MODEL_SPECS):
        write("model_spec", f"spec-{k:02d}", spec)
    for k, spec in enumerate(SCHEDULES):
        write("schedule", f"spec-{k:03d}", spec)
    for name, text in STEPPERS.items():
        write("stepper", name, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descent", help="the descent binary, to write checkpoint and model seeds")
    args = parser.parse_args()
    real = fashion(3)
    csv_seeds(real)
    idx_seeds(real)
    libsvm_seeds(real)
    safetensors_seeds()
    train_seeds(args.descent)
    text_seeds()


if __name__ == "__main__":
    main()
