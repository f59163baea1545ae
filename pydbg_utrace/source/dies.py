"""What a compile unit's DIEs say: functions, their parameters and scoped locals,
globals and types, as plain objects (:class:`Function`, :class:`Variable`,
:class:`Block`, :class:`~pydbg_utrace.source.types.Type`).

pyelftools reads the DIE tree; this module only turns it into our model, one
compile unit at a time and only when asked (:class:`UnitReader`).  Addresses
are file addresses (the ELF's ``p_vaddr`` space, before any load bias).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from elftools.dwarf.locationlists import (
    BaseAddressEntry,
    LocationEntry,
    LocationExpr,
    LocationParser,
)
from elftools.dwarf.ranges import BaseAddressEntry as RangeBaseEntry

from .types import VOID, Member, Type, type_name

_ENCODINGS = {2: "boolean", 4: "float", 5: "signed", 6: "signed_char", 7: "unsigned",
              8: "unsigned_char", 0x10: "unsigned"}
# gdb renames gcc's DWARF base types to the C spelling users type (whatis shows "long")
_GDB_BASE_NAMES = {"short int": "short", "short unsigned int": "unsigned short",
                   "long int": "long", "long unsigned int": "unsigned long",
                   "long long int": "long long", "long long unsigned int": "unsigned long long"}
_QUALIFIERS = {"DW_TAG_const_type": "const", "DW_TAG_volatile_type": "volatile",
               "DW_TAG_restrict_type": "restrict", "DW_TAG_atomic_type": "_Atomic"}


@dataclass(frozen=True, slots=True)
class LocationSpec:
    """Where a variable lives: one expression everywhere, a location list of
    ``(start, end, expression)`` file-address ranges, or a constant."""

    expr: bytes | None = None
    ranges: tuple[tuple[int, int, bytes], ...] = ()
    const: bytes | None = None

    def at(self, pc: int) -> bytes | None:
        """The expression valid at file address ``pc``; None: optimized out there."""
        if self.expr is not None:
            return self.expr
        for start, end, expr in self.ranges:
            if start <= pc < end:
                return expr
        return None


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    type: Type
    location: LocationSpec | None  # None: no location at all (<optimized out>)
    is_parameter: bool = False
    decl_line: int = 0
    external: bool = False


@dataclass(frozen=True, slots=True)
class CallSite:
    """A DW_TAG_call_site: what the caller knew of argument registers at a call."""

    return_pc: int
    parameters: tuple[tuple[bytes, bytes], ...]  # (DW_AT_location, DW_AT_call_value)
    origin: str | None = None  # DW_AT_call_origin: the called function's name
    target: bytes | None = None  # DW_AT_call_target: an expression for the address called


@dataclass
class Block:
    """A lexical block (or a function's body): its ranges and its own variables."""

    ranges: list[tuple[int, int]]
    variables: list[Variable] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def contains(self, pc: int) -> bool:
        return any(lo <= pc < hi for lo, hi in self.ranges)


@dataclass
class Function(Block):
    name: str = ""
    source_name: str = ""  # DW_AT_name when ``name`` is a linkage name
    type: Type = VOID  # a function type: return type and parameter types
    frame_base: LocationSpec | None = None
    decl_file: str = ""
    decl_line: int = 0
    call_sites: list[CallSite] = field(default_factory=list)
    external: bool = False

    @property
    def low(self) -> int:
        return min(lo for lo, _ in self.ranges)

    @property
    def high(self) -> int:
        return max(hi for _, hi in self.ranges)

    @property
    def entry(self) -> int:
        """Where ``<name+offset>`` counts from: the first range as DWARF lists it
        (gdb's BLOCK_ENTRY_PC; a function split into hot and .cold parts may
        have its lowest address in the cold one)."""
        return self.ranges[0][0]

    @property
    def parameters(self) -> list[Variable]:
        return [v for v in self.variables if v.is_parameter]

    def scopes_at(self, pc: int) -> list[Block]:
        """The blocks containing ``pc``, innermost first, ending with the function."""
        chain: list[Block] = [self]
        block: Block = self
        while True:
            inner = next((b for b in block.blocks if b.contains(pc)), None)
            if inner is None:
                return list(reversed(chain))
            chain.append(inner)
            block = inner

    def __repr__(self) -> str:
        return f"Function({self.name!r}, {self.low:#x}-{self.high:#x})"


@dataclass
class InlinedCall(Block):
    """A DW_TAG_inlined_subroutine: a call the compiler inlined, a frame to gdb."""

    name: str = ""
    type: Type = VOID
    call_file: str = ""
    call_line: int = 0

    @property
    def parameters(self) -> list[Variable]:
        return [v for v in self.variables if v.is_parameter]


@dataclass
class UnitNames:
    """The names one unit defines (see :meth:`UnitReader.names`)."""

    functions: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)  # "struct s", "my_t", "unsigned long"
    enumerators: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)  # base names of the line program's files


_TYPE_TAGS = {"DW_TAG_base_type": "", "DW_TAG_typedef": "", "DW_TAG_structure_type": "struct ",
              "DW_TAG_union_type": "union ", "DW_TAG_enumeration_type": "enum "}


class UnitReader:
    """Turns one compile unit's DIEs into our model, caching types by DIE offset."""

    def __init__(self, dwarf, cu):
        self.dwarf = dwarf
        self.cu = cu
        self.version = cu.header.version
        self.address_size = cu.header.address_size
        self.byteorder = "little" if dwarf.config.little_endian else "big"
        self.top = cu.get_top_DIE()
        self.base_address = self.top.attributes["DW_AT_low_pc"].value \
            if "DW_AT_low_pc" in self.top.attributes else 0
        self.name = _str(self.top, "DW_AT_name")
        self._types: dict[int, Type] = {}
        self._locations = LocationParser(dwarf.location_lists())
        self._files: list[str] | None = None

    # -- the unit's contents --------------------------------------------------------------

    def functions(self) -> list[Function]:
        found = []
        for die in self.top.iter_children():
            if die.tag == "DW_TAG_subprogram":
                fn = self.function(die)
                if fn is not None:
                    found.append(fn)
        return found

    def globals(self) -> list[Variable]:
        """File-scope variables defined here (an optimized-out one has no location)."""
        found = []
        for die in self.top.iter_children():
            if die.tag == "DW_TAG_variable" and not _int(die, "DW_AT_declaration"):
                var = self.variable(die)
                if var.name:
                    found.append(var)
        return found

    def named_types(self) -> dict[str, Type]:
        """Top-level types by the name gdb accepts: ``struct s``, ``enum e``, ``my_t``, ``int``."""
        found: dict[str, Type] = {}
        for die in self.top.iter_children():
            if die.tag in ("DW_TAG_base_type", "DW_TAG_typedef", "DW_TAG_structure_type",
                           "DW_TAG_union_type", "DW_TAG_enumeration_type") \
                    and "DW_AT_name" in die.attributes:
                t = self.type_of_die(die)
                found.setdefault(type_name(t), t)
        return found

    def defines_function(self, name: str) -> bool:
        """A cheap test before :meth:`functions`: a top-level subprogram named ``name``."""
        wanted = name.encode()
        for die in self.top.iter_children():
            if die.tag == "DW_TAG_subprogram":
                for attr in ("DW_AT_name", "DW_AT_linkage_name"):
                    if attr in die.attributes and die.attributes[attr].value == wanted:
                        return True
                if "DW_AT_specification" in die.attributes or \
                        "DW_AT_abstract_origin" in die.attributes:
                    spec = self._definition_of(die)
                    if spec.attributes.get("DW_AT_name") is not None and \
                            spec.attributes["DW_AT_name"].value == wanted:
                        return True
        return False

    def names(self) -> UnitNames:
        """What the unit defines at top level, by name only (no Type, no Function
        built): one pass over the top-level DIEs, for :mod:`.names`' index.  The
        keys are those :meth:`functions`, :meth:`globals`, :meth:`named_types` and
        :meth:`enumerators` answer to, so an index miss is a lookup miss."""
        found = UnitNames()
        for die in self.top.iter_children():
            tag = die.tag
            declared = _int(die, "DW_AT_declaration")
            if tag == "DW_TAG_subprogram" and not declared:
                found.functions.update(self._function_names(die))
            elif tag == "DW_TAG_variable" and not declared:
                name = _str(self._definition_of(die), "DW_AT_name")
                if name:
                    found.variables.add(name)
            elif tag in _TYPE_TAGS and not declared and "DW_AT_name" in die.attributes:
                name = _str(die, "DW_AT_name")
                if tag == "DW_TAG_base_type":
                    name = _GDB_BASE_NAMES.get(name, name)
                found.types.add(_TYPE_TAGS[tag] + name)
            if tag == "DW_TAG_enumeration_type" and die.has_children:
                found.enumerators.update(_str(child, "DW_AT_name")
                                         for child in die.iter_children()
                                         if child.tag == "DW_TAG_enumerator")
        found.files.update(os.path.basename(name) for name in self.file_names() if name)
        return found

    def _function_names(self, die) -> set[str]:
        """The names :meth:`defines_function` matches: the DIE's own, its linkage
        name, and those of the DIE its specification or abstract origin names."""
        names = {_str(die, "DW_AT_name"), _str(die, "DW_AT_linkage_name")}
        if "DW_AT_specification" in die.attributes or "DW_AT_abstract_origin" in die.attributes:
            names.add(_str(self._definition_of(die), "DW_AT_name"))
        names.discard("")
        return names

    def enumerators(self) -> dict[str, tuple[Type, int]]:
        """Enumeration constants of the unit's top-level enums (named or not)."""
        found: dict[str, tuple[Type, int]] = {}
        for die in self.top.iter_children():
            if die.tag == "DW_TAG_enumeration_type":
                t = self.type_of_die(die)
                for name, value in t.enumerators:
                    found.setdefault(name, (t, value))
        return found

    def function(self, die) -> Function | None:
        ranges = self.ranges_of(die)
        if not ranges:
            return None
        spec = self._definition_of(die)
        # gdb prints a C function by its linkage name when it has one (glibc's
        # asm-labelled __GI___libc_write), and finds it by either name
        fn = Function(ranges=ranges, name=_str(die, "DW_AT_linkage_name") or
                      _str(spec, "DW_AT_linkage_name") or _str(spec, "DW_AT_name"),
                      source_name=_str(spec, "DW_AT_name"),
                      type=self._function_type(spec),
                      frame_base=self.location_of(die, "DW_AT_frame_base"),
                      decl_file=self.file_name(spec.attributes.get("DW_AT_decl_file")),
                      decl_line=_int(spec, "DW_AT_decl_line"),
                      external=bool(_int(spec, "DW_AT_external")))
        self._fill_block(fn, die, fn)
        self._inherit_abstract(fn, die)
        return fn

    def _inherit_abstract(self, block: Block, die) -> None:
        """gdb's inherit_abstract_dies: children of the abstract origin that no direct
        child of the concrete DIE stands for become variables without a location
        (so gdb lists ``result = <optimized out>`` twice for a variable the concrete
        instance keeps in a nested block)."""
        if "DW_AT_abstract_origin" not in die.attributes:
            return
        origin = die.get_DIE_from_attribute("DW_AT_abstract_origin")
        covered = {child.get_DIE_from_attribute("DW_AT_abstract_origin").offset
                   for child in die.iter_children()
                   if "DW_AT_abstract_origin" in child.attributes}
        for child in origin.iter_children():
            if child.tag in ("DW_TAG_formal_parameter", "DW_TAG_variable") and \
                    child.offset not in covered and "DW_AT_name" in child.attributes:
                var = self.variable(child)
                block.variables.append(Variable(var.name, var.type, None if not isinstance(
                    var.location, LocationSpec) or var.location.const is None else var.location,
                    var.is_parameter, var.decl_line))

    def _fill_block(self, block: Block, die, function: Function) -> None:
        """Variables and nested blocks of ``block``; call sites at any depth go to the
        enclosing ``function`` (entry values look them up by return address)."""
        for child in die.iter_children():
            tag = child.tag
            if tag in ("DW_TAG_formal_parameter", "DW_TAG_variable") \
                    and "DW_AT_name" in self._definition_of(child).attributes:
                block.variables.append(self.variable(child))
            elif tag == "DW_TAG_lexical_block":
                inner = Block(self.ranges_of(child))
                self._fill_block(inner, child, function)
                if inner.ranges:
                    block.blocks.append(inner)
                else:  # a block without code of its own: its variables belong to ours
                    block.variables.extend(inner.variables)
                    block.blocks.extend(inner.blocks)
            elif tag == "DW_TAG_inlined_subroutine":
                call = self._inlined_call(child, function)
                if call is not None:
                    block.blocks.append(call)
            elif tag in ("DW_TAG_call_site", "DW_TAG_GNU_call_site"):
                site = self._call_site(child)
                if site is not None:
                    function.call_sites.append(site)

    def _inlined_call(self, die, function: Function) -> InlinedCall | None:
        ranges = self.ranges_of(die)
        if not ranges:
            return None
        origin = self._definition_of(die)
        call = InlinedCall(ranges, name=_str(origin, "DW_AT_name"),
                           type=self._function_type(origin),
                           call_file=self.file_name(die.attributes.get("DW_AT_call_file")),
                           call_line=_int(die, "DW_AT_call_line"))
        self._fill_block(call, die, function)
        self._inherit_abstract(call, die)
        return call

    def variable(self, die) -> Variable:
        spec = self._definition_of(die)
        location = self.location_of(die, "DW_AT_location")
        if location is None and "DW_AT_const_value" in die.attributes:
            location = LocationSpec(const=self._const_bytes(die))
        return Variable(name=_str(spec, "DW_AT_name"), type=self.type_attr(spec),
                        location=location, is_parameter=die.tag == "DW_TAG_formal_parameter",
                        decl_line=_int(spec, "DW_AT_decl_line"),
                        external=bool(_int(spec, "DW_AT_external")))

    def _call_site(self, die) -> CallSite | None:
        attr = die.attributes.get("DW_AT_call_return_pc") or die.attributes.get("DW_AT_low_pc")
        if attr is None:
            return None
        params = []
        for child in die.iter_children():
            if child.tag in ("DW_TAG_call_site_parameter", "DW_TAG_GNU_call_site_parameter"):
                loc = child.attributes.get("DW_AT_location")
                value = child.attributes.get("DW_AT_call_value") or \
                    child.attributes.get("DW_AT_GNU_call_site_value")
                if loc is not None and value is not None:
                    params.append((bytes(loc.value), bytes(value.value)))
        origin_name = None
        for name in ("DW_AT_call_origin", "DW_AT_abstract_origin"):
            if name in die.attributes:
                origin = self._definition_of(die.get_DIE_from_attribute(name))
                origin_name = _str(origin, "DW_AT_name") or None
                break
        target = die.attributes.get("DW_AT_call_target") or \
            die.attributes.get("DW_AT_GNU_call_site_target")
        return CallSite(self._address(attr), tuple(params), origin_name,
                        bytes(target.value) if target is not None else None)

    # -- attributes -----------------------------------------------------------------------

    def _definition_of(self, die):
        """A DIE with DW_AT_specification/abstract_origin takes its name and type there."""
        for name in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if name in die.attributes:
                return die.get_DIE_from_attribute(name)
        return die

    def _address(self, attr) -> int:
        if attr.form in ("DW_FORM_addrx", "DW_FORM_GNU_addr_index") or \
                attr.form.startswith("DW_FORM_addrx"):
            return self.dwarf.get_addr(self.cu, attr.value)
        return attr.value

    def ranges_of(self, die) -> list[tuple[int, int]]:
        attrs = die.attributes
        if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            low = self._address(attrs["DW_AT_low_pc"])
            high = attrs["DW_AT_high_pc"]
            end = high.value if high.form == "DW_FORM_addr" else low + high.value
            return [(low, end)] if end > low else []
        if "DW_AT_ranges" in attrs:
            lists = self.dwarf.range_lists()
            entries = lists.get_range_list_at_offset(attrs["DW_AT_ranges"].value, cu=self.cu)
            out, base = [], self.base_address
            for entry in entries:
                if isinstance(entry, RangeBaseEntry):
                    base = entry.base_address
                elif entry.is_absolute:
                    out.append((entry.begin_offset, entry.end_offset))
                else:
                    out.append((base + entry.begin_offset, base + entry.end_offset))
            return [(lo, hi) for lo, hi in out if hi > lo]
        return []

    def location_of(self, die, name: str) -> LocationSpec | None:
        attr = die.attributes.get(name)
        if attr is None:
            return None
        if not LocationParser.attribute_has_location(attr, self.version):
            return None
        parsed = self._locations.parse_from_attribute(attr, self.version, die)
        if isinstance(parsed, LocationExpr):
            return LocationSpec(expr=bytes(parsed.loc_expr))
        ranges, base = [], self.base_address
        for entry in parsed:
            if isinstance(entry, BaseAddressEntry):
                base = entry.base_address
            elif isinstance(entry, LocationEntry):
                offset = 0 if entry.is_absolute else base
                ranges.append((entry.begin_offset + offset, entry.end_offset + offset,
                               bytes(entry.loc_expr)))
        return LocationSpec(ranges=tuple(ranges))

    def _const_bytes(self, die) -> bytes:
        attr = die.attributes["DW_AT_const_value"]
        if isinstance(attr.value, (list, bytes)):
            return bytes(attr.value)
        size = self.type_attr(die).size or 8
        return (attr.value & ((1 << (8 * size)) - 1)).to_bytes(size, self.byteorder)

    def file_name(self, attr) -> str:
        if attr is None:
            return ""
        files = self.file_names()
        index = attr.value
        return files[index] if 0 <= index < len(files) else ""

    def file_names(self) -> list[str]:
        """The line program's file table, indexed as DW_AT_decl_file counts."""
        if self._files is None:
            program = self.dwarf.line_program_for_CU(self.cu)
            self._files = file_table(program) if program is not None else []
        return self._files

    # -- types ----------------------------------------------------------------------------

    def type_attr(self, die) -> Type:
        if "DW_AT_type" not in die.attributes:
            return VOID
        return self.type_of_die(die.get_DIE_from_attribute("DW_AT_type"))

    def type_of_die(self, die) -> Type:
        cached = self._types.get(die.offset)
        if cached is not None:
            return cached
        t = Type("base", _str(die, "DW_AT_name") or None, _int(die, "DW_AT_byte_size"))
        self._types[die.offset] = t  # before the members: a struct may point to itself
        self._fill_type(t, die)
        return t

    def _fill_type(self, t: Type, die) -> None:
        tag = die.tag
        if tag == "DW_TAG_base_type":
            t.name = _GDB_BASE_NAMES.get(t.name, t.name)
            t.encoding = _ENCODINGS.get(_int(die, "DW_AT_encoding"), "signed")
        elif tag == "DW_TAG_pointer_type" or tag == "DW_TAG_reference_type":
            t.kind, t.target, t.size = "pointer", self.type_attr(die), t.size or self.address_size
        elif tag in _QUALIFIERS:
            t.kind, t.target = _QUALIFIERS[tag], self.type_attr(die)
            t.size = t.target.size
        elif tag == "DW_TAG_typedef":
            t.kind, t.target = "typedef", self.type_attr(die)
            t.size = t.target.size
        elif tag == "DW_TAG_array_type":
            self._fill_array(t, die)
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_class_type"):
            t.kind = "union" if tag == "DW_TAG_union_type" else "struct"
            t.declaration = bool(_int(die, "DW_AT_declaration"))
            t.members = [self._member(m) for m in die.iter_children()
                         if m.tag == "DW_TAG_member"]
        elif tag == "DW_TAG_enumeration_type":
            t.kind = "enum"
            t.enumerators = [(_str(e, "DW_AT_name"), e.attributes["DW_AT_const_value"].value)
                             for e in die.iter_children() if e.tag == "DW_TAG_enumerator"]
            under = self.type_attr(die) if "DW_AT_type" in die.attributes else None
            t.encoding = under.encoding if under is not None else "unsigned"
        elif tag in ("DW_TAG_subroutine_type", "DW_TAG_subprogram"):
            function = self._function_type(die)
            t.kind, t.target, t.params = "function", function.target, function.params
            t.prototyped, t.varargs, t.size = function.prototyped, function.varargs, 1
        elif tag == "DW_TAG_unspecified_type":
            t.kind, t.name = "void", t.name or "void"
        else:
            t.kind = "void"

    def _fill_array(self, t: Type, die) -> None:
        counts = []
        for sub in die.iter_children():
            if sub.tag != "DW_TAG_subrange_type":
                continue
            if "DW_AT_count" in sub.attributes:
                counts.append(_int(sub, "DW_AT_count"))
            elif "DW_AT_upper_bound" in sub.attributes and \
                    isinstance(sub.attributes["DW_AT_upper_bound"].value, int):
                counts.append(_int(sub, "DW_AT_upper_bound") - _int(sub, "DW_AT_lower_bound")
                              + 1)
            else:
                counts.append(None)
        element = self.type_attr(die)
        for count in reversed(counts[1:]):  # int a[2][3]: an array of 2 arrays of 3
            element = Type("array", None, element.size * (count or 0), element, count=count)
        t.kind, t.target = "array", element
        t.count = counts[0] if counts else None
        t.size = element.size * (t.count or 0)

    def _member(self, die) -> Member:
        attrs = die.attributes
        offset = 0
        where = attrs.get("DW_AT_data_member_location")
        if where is not None:
            offset = where.value if isinstance(where.value, int) else _plus_uconst(where.value)
        bit_size = _int(die, "DW_AT_bit_size")
        bit_offset = 0
        if bit_size:
            if "DW_AT_data_bit_offset" in attrs:
                bit_offset = attrs["DW_AT_data_bit_offset"].value
            elif self.byteorder == "big":  # DWARF 2/3: from the storage's most significant bit
                bit_offset = offset * 8 + _int(die, "DW_AT_bit_offset")
            else:
                storage = _int(die, "DW_AT_byte_size") or self.type_attr(die).size
                bit_offset = offset * 8 + storage * 8 - _int(die, "DW_AT_bit_offset") - bit_size
            offset = 0
        name = _str(die, "DW_AT_name") or None
        return Member(name, self.type_attr(die), offset, bit_size, bit_offset)

    def _function_type(self, die) -> Type:
        params = [self.type_attr(p) for p in die.iter_children()
                  if p.tag == "DW_TAG_formal_parameter"]
        varargs = any(p.tag == "DW_TAG_unspecified_parameters" for p in die.iter_children())
        return Type("function", None, 1, self.type_attr(die), params=params,
                    prototyped=bool(_int(die, "DW_AT_prototyped")), varargs=varargs)


def file_table(program) -> list[str]:
    """File names of a line program, as gdb prints them (``t.c``, ``../sysdeps/x/write.c``,
    ``./nptl/pthread_create.c`` for glibc's units built in a relative ``./nptl``)."""
    header = program.header
    version = header["version"]
    dirs = [_decode(d) for d in header["include_directory"]]
    names = []
    for entry in header["file_entry"]:
        name = _decode(entry.name)
        index = entry.dir_index
        if version >= 5:  # entry 0 is the unit's own directory: gdb names it when relative
            folder = dirs[index] if index < len(dirs) and (index > 0 or not
                                                           dirs[index].startswith("/")) else ""
        else:
            folder = dirs[index - 1] if 0 < index <= len(dirs) else ""
        names.append(name if not folder or name.startswith("/") else folder + "/" + name)
    if version < 5:
        names.insert(0, names[0] if names else "")  # DWARF 4 counts files from 1
    return names


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _str(die, name: str) -> str:
    attr = die.attributes.get(name)
    return _decode(attr.value) if attr is not None else ""


def _int(die, name: str) -> int:
    attr = die.attributes.get(name)
    return attr.value if attr is not None and isinstance(attr.value, int) else 0


def _plus_uconst(expr) -> int:
    """DWARF 2 member locations: ``DW_OP_plus_uconst N`` as an expression block."""
    data = bytes(expr)
    if data[:1] == b"\x23":
        value, shift = 0, 0
        for byte in data[1:]:
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return value
    return 0
