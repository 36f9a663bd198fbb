"""TensorBoard event files read without TensorFlow: TFRecord framing (length, masked CRC-32C of
the length, data, masked CRC-32C of the data) and the few protobuf messages of an ``Event``
(step, wall time, summary values: simple values, scalar tensors, histograms, images, text, and
the hyperparameters of the ``hparams`` plugin's ``session_start_info``), decoded by hand. A torn
or still-growing last record is left for the next read."""

import struct

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


class CorruptRecord(ValueError):
    """A record whose checksum does not match: the file is damaged at ``offset``."""

    def __init__(self, offset):
        ValueError.__init__(self, "damaged TFRecord at byte %d" % offset)
        self.offset = offset


def read_records(data, offset=0):
    """``(records, next_offset)``: the whole records of ``data`` from ``offset`` on; a record cut
    short at the end is left (``next_offset`` points at it). Raises :class:`CorruptRecord`."""
    records = []
    while offset + 12 <= len(data):
        header = data[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
        if _masked(crc32c(header)) != length_crc:
            raise CorruptRecord(offset)
        end = offset + 12 + length + 4
        if end > len(data):
            break
        body = data[offset + 12:offset + 12 + length]
        (body_crc,) = struct.unpack("<I", data[end - 4:end])
        if _masked(crc32c(body)) != body_crc:
            raise CorruptRecord(offset)
        records.append(body)
        offset = end
    return records, offset


# -- protobuf wire format -------------------------------------------------------------------------

def _varint(buf, pos):
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """``(field number, wire type, value)`` of each field: ints for varints, bytes otherwise."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield number, wire, value


def _doubles(wire, value):
    if wire == 1:
        return [struct.unpack("<d", value)[0]]
    return list(struct.unpack("<%dd" % (len(value) // 8), value))


def _floats(wire, value):
    if wire == 5:
        return [struct.unpack("<f", value)[0]]
    return list(struct.unpack("<%df" % (len(value) // 4), value))


def _signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


# -- messages -------------------------------------------------------------------------------------

_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_STRING, _DT_INT64, _DT_HALF = 1, 2, 3, 7, 9, 19


def _tensor(buf):
    """``(shape, values)`` of a TensorProto (numbers as floats, strings as bytes)."""
    dtype, shape, content, values = 0, [], b"", []
    for number, wire, value in fields(buf):
        if number == 1:
            dtype = value
        elif number == 2:
            shape = [next((v for n, _, v in fields(dim) if n == 1), 0)
                     for n, _, dim in fields(value) if n == 2]
        elif number == 4:
            content = value
        elif number == 5:
            values += _floats(wire, value)
        elif number == 6:
            values += _doubles(wire, value)
        elif number in (7, 10):
            if wire == 2:
                pos, ints = 0, []
                while pos < len(value):
                    n, pos = _varint(value, pos)
                    ints.append(_signed(n))
                values += ints
            else:
                values.append(_signed(value))
        elif number == 8:
            values.append(value)
    if content and not values:
        formats = {_DT_FLOAT: "f", _DT_DOUBLE: "d", _DT_INT32: "i", _DT_INT64: "q", _DT_HALF: "e"}
        code = formats.get(dtype)
        if code:
            size = struct.calcsize(code)
            values = list(struct.unpack("<%d%s" % (len(content) // size, code), content))
    return shape, values


def _histogram(buf):
    """``(bucket limits, counts, min)`` of a HistogramProto."""
    limits, counts, low = [], [], 0.0
    for number, wire, value in fields(buf):
        if number == 1 and wire == 1:
            low = struct.unpack("<d", value)[0]
        elif number == 6:
            limits += _doubles(wire, value)
        elif number == 7:
            counts += _doubles(wire, value)
    return limits, counts, low


def _plugin(buf):
    """``(plugin name, plugin content)`` of a SummaryMetadata."""
    name, content = "", b""
    for number, _, value in fields(buf):
        if number == 1:  # plugin_data: {plugin_name = 1, content = 2}
            for n, _, v in fields(value):
                if n == 1:
                    name = v.decode("utf-8", "replace")
                elif n == 2:
                    content = v
    return name, content


def _proto_value(buf):
    """A ``google.protobuf.Value``: None, a float, a str or a bool (structs and lists: None)."""
    for number, wire, value in fields(buf):
        if number == 2 and wire == 1:
            return struct.unpack("<d", value)[0]
        if number == 3:
            return value.decode("utf-8", "replace")
        if number == 4:
            return bool(value)
    return None


def hparams(content):
    """The hyperparameters of an ``hparams`` plugin content (``HParamsPluginData``) that holds a
    ``session_start_info`` (field 3; its ``hparams`` map is field 1), as a dict; else None. This is
    what tensorboardX's and torch's ``add_hparams`` and TensorFlow's ``hp.hparams`` write."""
    for number, _, value in fields(content):
        if number == 3:
            out = {}
            for n, _, entry in fields(value):
                if n == 1:
                    key, item = "", None
                    for k, _, v in fields(entry):
                        if k == 1:
                            key = v.decode("utf-8", "replace")
                        elif k == 2:
                            item = _proto_value(v)
                    if key:
                        out[key] = item
            return out
    return None


class SummaryValue:
    """One value of an event's summary: ``kind`` is ``scalar`` (``value``: float), ``histogram``
    (``value``: ``(counts, edges)``), ``images`` (``value``: list of encoded image bytes),
    ``text`` (``value``: str) or ``hparams`` (``value``: {name: float, str, bool or None});
    ``tag`` its name."""

    __slots__ = ("tag", "kind", "value")

    def __init__(self, tag, kind, value):
        self.tag, self.kind, self.value = tag, kind, value


def _value(buf):
    tag, simple, image, histo, tensor, plugin, content = "", None, None, None, None, "", b""
    for number, wire, value in fields(buf):
        if number == 1:
            tag = value.decode("utf-8", "replace")
        elif number == 2:
            simple = _floats(wire, value)[0]
        elif number == 4:
            image = next((v for n, _, v in fields(value) if n == 4), None)
        elif number == 5:
            histo = _histogram(value)
        elif number == 8:
            tensor = _tensor(value)
        elif number == 9:
            plugin, content = _plugin(value)
    if plugin == "hparams":
        found = hparams(content)
        return None if found is None else SummaryValue(tag, "hparams", found)
    if simple is not None:
        return SummaryValue(tag, "scalar", float(simple))
    if image is not None:
        return SummaryValue(tag, "images", [image])
    if histo is not None:
        # wandb-core's reading: bucket i spans (limits[i-1], limits[i]]; the first one, from
        # -inf, is dropped when empty, else it starts at the histogram's min.
        limits, counts, low = histo
        if not limits or len(limits) != len(counts):
            return None
        if counts[0] == 0:
            edges, counts = limits, counts[1:]
        elif low < limits[0]:
            edges = [low] + limits
        else:
            return None
        if not counts:
            return None
        return SummaryValue(tag, "histogram", (counts, edges))
    if tensor is None:
        return None
    shape, values = tensor
    if plugin == "histograms" and len(shape) == 2 and shape[1] == 3 and values:
        rows = [values[i:i + 3] for i in range(0, len(values), 3)]
        edges = [r[0] for r in rows] + [rows[-1][1]]
        return SummaryValue(tag, "histogram", ([r[2] for r in rows], edges))
    if plugin == "images" and len(values) > 2 and isinstance(values[2], bytes):
        return SummaryValue(tag, "images", list(values[2:]))
    if plugin == "text" and values and isinstance(values[0], bytes):
        return SummaryValue(tag, "text", values[0].decode("utf-8", "replace"))
    if len(values) == 1 and not isinstance(values[0], bytes) and not shape:
        return SummaryValue(tag, "scalar", float(values[0]))
    return None


class Event:
    """One event: ``step``, ``wall_time`` and its summary ``values``."""

    __slots__ = ("step", "wall_time", "values")

    def __init__(self, step, wall_time, values):
        self.step, self.wall_time, self.values = step, wall_time, values


def parse_event(record):
    """The :class:`Event` in one record, or None for events without summary values."""
    step, wall_time, values = 0, 0.0, []
    for number, wire, value in fields(record):
        if number == 1 and wire == 1:
            wall_time = struct.unpack("<d", value)[0]
        elif number == 2:
            step = _signed(value)
        elif number == 5:
            for n, _, v in fields(value):
                if n == 1:
                    parsed = _value(v)
                    if parsed is not None:
                        values.append(parsed)
    return Event(step, wall_time, values) if values else None
