"""Post-process stage for screen files: repair WeasyPrint 70's structure tree and metadata.

Runs as WeasyPrint's `finisher` (on the pydyf objects, before the PDF is serialised),
so nothing is parsed twice. Each step is a small function of (document, pdf):

- running heads and page numbers become /Artifact /Pagination (WeasyPrint tags
  margin boxes as Span elements that no parent lists);
- fragments of one HTML element, split by a column or page break, become one element;
- a contents list (`data-pdf-tag="TOC"`) becomes TOC/TOCI with one link per entry,
  described in words;
- Figure /BBox attributes are written in PDF points (WeasyPrint writes CSS px, y down);
- automatic hyphens extract as hyphens that text extractors remove at a line end;
- the XMP metadata declares PDF/UA-1 inside WeasyPrint's own rdf:RDF block, with the
  PDF/A extension schema that PDF/A-2 requires for the pdfuaid namespace.
"""

from __future__ import annotations

import pydyf

PX_TO_PT = 0.75

# The mapping of each structure element WeasyPrint creates to the box it came from,
# filled by `record_boxes` while WeasyPrint builds its tags.
_ORIGIN = "_policyprint_origin"


def record_boxes() -> None:
    """Make WeasyPrint remember, on each structure element, the HTML element and box it tags.

    WeasyPrint 70 builds one element per box fragment and forgets the box; merging
    fragments needs to know which fragments belong to one HTML element.
    """
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf import tags

    if getattr(tags._build_box_tree, "_recording", False):
        return
    original = tags._build_box_tree

    def build(box, *args, **kwargs):
        real = box._box if isinstance(box, AbsolutePlaceholder) else box
        for element in original(box, *args, **kwargs):
            if not hasattr(element, _ORIGIN):
                setattr(element, _ORIGIN, (real.element, real))
            yield element

    build._recording = True
    tags._build_box_tree = build


class Tree:
    """The structure tree of a pydyf PDF, with references resolved."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.root = self.get(pdf.catalog["StructTreeRoot"])
        self.parent_tree = self.get(self.root["ParentTree"])

    def get(self, reference):
        if isinstance(reference, (bytes, str)):
            return self.pdf.objects[int(reference.split()[0])]
        return reference

    def is_ref(self, value) -> bool:
        return isinstance(value, (bytes, str)) and (value.endswith(b" R") if isinstance(value, bytes)
                                                   else value.endswith(" R"))

    def kids(self, element) -> list:
        """The structure elements among an element's kids, resolved."""
        found = []
        for kid in element.get("K", []):
            if self.is_ref(kid):
                obj = self.get(kid)
                if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                    found.append(obj)
        return found

    def walk(self, element=None):
        """Every listed structure element, in reading order (pre-order)."""
        element = element if element is not None else self.root
        for kid in self.kids(element):
            yield kid
            yield from self.walk(kid)

    def elements(self) -> list:
        return [o for o in self.pdf.objects if isinstance(o, dict) and o.get("Type") == "/StructElem"]

    def page_index(self, page_reference) -> int:
        return self.pdf.page_references.index(page_reference)

    def nums(self) -> list:
        return self.parent_tree["Nums"]

    def page_map(self, page: int) -> list:
        """The page's MCID → structure element array of the ParentTree."""
        return self.nums()[2 * page + 1]   # WeasyPrint lists the pages first, in order


def _mcids(tree: Tree, element) -> list[tuple[bytes, int]]:
    """(page reference, MCID) of every marked-content kid in an element's subtree."""
    found = []
    for kid in element.get("K", []):
        if isinstance(kid, int):
            found.append((element["Pg"], kid))
        elif isinstance(kid, dict) and kid.get("Type") == "/MCR":
            found.append((kid["Pg"], kid["MCID"]))
        elif tree.is_ref(kid):
            obj = tree.get(kid)
            if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                found += _mcids(tree, obj)
    return found


def _page_streams(tree: Tree, page) -> list:
    """The content stream of a page and of every Form XObject it draws."""
    streams, todo, seen = [], [page], set()
    while todo:
        owner = todo.pop()
        contents = owner.get("Contents") if owner is page else None
        if contents is not None:
            streams.append(tree.get(contents))
        resources = owner.get("Resources") if owner is page else getattr(owner, "extra", {}).get("Resources")
        resources = tree.get(resources) if resources is not None else None
        xobjects = resources.get("XObject", {}) if isinstance(resources, dict) else {}
        xobjects = tree.get(xobjects) if not isinstance(xobjects, dict) else xobjects
        for reference in xobjects.values():
            obj = tree.get(reference)
            if id(obj) not in seen and isinstance(obj, pydyf.Stream):
                seen.add(id(obj))
                streams.append(obj)
                todo.append(obj)
    return streams


def pagination_artifacts(document, pdf) -> None:
    """Turn the orphan elements of margin boxes into /Artifact /Pagination marked content.

    WeasyPrint 70 tags running heads and page numbers as Span elements whose parent
    (Document) does not list them: readers then read "Side 6 af 12" inside a sentence.
    PDF/UA-1 (ISO 14289-1 7.8) wants them as pagination artifacts, outside the tree.
    """
    tree = Tree(pdf)
    listed = {id(e) for e in tree.walk()}
    orphans = [e for e in tree.elements() if id(e) not in listed]
    if not orphans:
        return
    by_page: dict[int, set[int]] = {}
    for element in orphans:
        for page_ref, mcid in _mcids(tree, element):
            by_page.setdefault(tree.page_index(page_ref), set()).add(mcid)
        element.clear()   # an empty dictionary; no longer a structure element
    for index, mcids in by_page.items():
        page = tree.get(pdf.page_references[index])
        for stream in _page_streams(tree, page):
            items = stream.stream
            for i, item in enumerate(items):
                if isinstance(item, dict) and item.get("MCID") in mcids and i and i + 1 < len(items) \
                        and items[i + 1] == b"BDC":
                    items[i - 1] = "/Artifact"
                    items[i] = pydyf.Dictionary({"Type": "/Pagination"})
        page_map = tree.page_map(index)
        for mcid in mcids:
            page_map[mcid] = "null"


def _origin(element):
    return getattr(element, _ORIGIN, (None, None))


def _same_source(a, b) -> bool:
    (ea, box_a), (eb, _) = _origin(a), _origin(b)
    return ea is not None and ea is eb and a.get("S") == b.get("S") and \
        getattr(box_a, "element_tag", None) not in ("html", "body")


def merge_fragments(document, pdf) -> None:
    """Merge the elements that one HTML element became when a column or page break split it.

    Only adjacent siblings from the same element with the same type are merged, so that
    anonymous boxes on either side of a block (the same element, but not contiguous)
    stay apart. Parents merge first, which makes their fragments' kids siblings.
    """
    tree = Tree(pdf)
    moved: dict[bytes, bytes] = {}   # reference of a merged-away element -> the one it joined

    def merge_into(first, other):
        for kid in other["K"]:
            if isinstance(kid, int):
                if other["Pg"] != first["Pg"]:
                    kid = pydyf.Dictionary({"Type": "/MCR", "Pg": other["Pg"], "MCID": kid})
            elif isinstance(kid, dict) and kid.get("Type") == "/OBJR":
                pass
            elif tree.is_ref(kid):
                obj = tree.get(kid)
                if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                    obj["P"] = first.reference
            first["K"].append(kid)
        for key in ("A", "Alt", "ActualText"):
            if key in other and key not in first:
                first[key] = other[key]
        moved[other.reference] = first.reference
        other.clear()

    def visit(element):
        kids = element.get("K", [])
        i = 0
        while i < len(kids):
            kid = kids[i]
            obj = tree.get(kid) if tree.is_ref(kid) else None
            if isinstance(obj, dict) and obj.get("Type") == "/StructElem":
                while i + 1 < len(kids) and tree.is_ref(kids[i + 1]):
                    nxt = tree.get(kids[i + 1])
                    if isinstance(nxt, dict) and nxt.get("Type") == "/StructElem" and _same_source(obj, nxt):
                        merge_into(obj, nxt)
                        del kids[i + 1]
                    else:
                        break
                visit(obj)
            i += 1

    visit(tree.root)
    if not moved:
        return
    nums = tree.nums()
    for k in range(1, len(nums), 2):
        value = nums[k]
        if isinstance(value, list):
            for j, ref in enumerate(value):
                if ref in moved:
                    value[j] = moved[ref]
        elif value in moved:
            nums[k] = moved[value]


def figure_boxes(document, pdf) -> None:
    """Write Figure /BBox attributes in PDF points, y up (WeasyPrint writes CSS px, y down)."""
    tree = Tree(pdf)
    for element in tree.walk():
        attributes = element.get("A")
        if element.get("S") != "/Figure" or not isinstance(attributes, dict) or "BBox" not in attributes:
            continue
        page = tree.get(element["Pg"])
        height = float(page["MediaBox"][3])
        x1, y1, x2, y2 = (float(v) for v in attributes["BBox"])
        attributes["BBox"] = pydyf.Array([round(x1 * PX_TO_PT, 2), round(height - y2 * PX_TO_PT, 2),
                                          round(x2 * PX_TO_PT, 2), round(height - y1 * PX_TO_PT, 2)])


def _text_of(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def contents_list(document, pdf) -> None:
    """Tag a contents list as TOC/TOCI, with one link per entry described in words.

    The template marks the list with data-pdf-tag="TOC"; each entry's link carries
    data-description with "{page}" for the page its target lands on. WeasyPrint
    makes a link annotation for the link text and one for each pseudo-element
    (leader, page number): three overlapping tab stops per entry, each described by
    the target's id. ISO 14289-1 7.18.5 wants a description in words.
    """
    tree = Tree(pdf)
    pages = {}
    for number, page in enumerate(document.pages, 1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    for toc in [e for e in tree.walk() if getattr(_origin(e)[0], "get", lambda k: None)("data-pdf-tag") == "TOC"]:
        toc["S"] = "/TOC"
        for item in tree.kids(toc):
            _contents_entry(tree, pdf, toc, item, pages)


def _contents_entry(tree: Tree, pdf, toc, item, pages: dict) -> None:
    item["S"] = "/TOCI"
    links = [e for e in tree.walk(item) if e.get("S") == "/Link"]
    objrs = [k for link in links for k in link["K"] if isinstance(k, (bytes, str)) and tree.is_ref(k)
             and tree.get(k).get("Type") == "/OBJR"]
    if not links or not objrs:
        return
    # The entry's marked content, in order, becomes the one link's content.
    content = _mcids(tree, item)
    descendants = list(tree.walk(item))
    keep = tree.get(objrs[0])
    annotation = tree.get(keep["Obj"])
    rects = [[float(v) for v in tree.get(tree.get(o)["Obj"])["Rect"]] for o in objrs]
    xs = [x for r in rects for x in (r[0], r[2])]
    ys = [y for r in rects for y in (r[1], r[3])]
    annotation["Rect"] = pydyf.Array([min(xs), min(ys), max(xs), max(ys)])
    element = _origin(links[0])[0]
    description = element.get("data-description") if element is not None else None
    if description:
        target = str(element.get("href", "")).lstrip("#")
        text = " ".join(description.replace("{page}", str(pages.get(target, "?"))).split())
        annotation["Contents"] = pydyf.String(text)   # spoken: no-break spaces are plain ones
    # Drop the other annotations from their pages and from the parent tree.
    dropped = {tree.get(o)["Obj"] for o in objrs[1:]}
    for page_reference in pdf.page_references:
        page = tree.get(page_reference)
        if "Annots" in page:
            page["Annots"] = pydyf.Array([a for a in page["Annots"] if a not in dropped])
    nums = tree.nums()
    for k in range(0, len(nums), 2):
        if nums[k + 1] in [l.reference for l in links[1:]] and isinstance(nums[k + 1], bytes):
            nums[k + 1] = "null"
    for reference in dropped:
        tree.get(reference).clear()
    # TOCI → Reference → Link (the link's annotation and all the entry's text).
    link = links[0]
    link["K"] = pydyf.Array([objrs[0]] + [pydyf.Dictionary({"Type": "/MCR", "Pg": pg, "MCID": mcid})
                                           for pg, mcid in content])
    reference = pydyf.Dictionary({"Type": "/StructElem", "S": "/Reference", "P": item.reference,
                                  "K": pydyf.Array([link.reference]), "Pg": item.get("Pg")})
    pdf.add_object(reference)
    link["P"] = reference.reference
    for other in descendants:
        if other is not link:
            other.clear()
    item["K"] = pydyf.Array([reference.reference])
    page_maps = {}
    for pg, mcid in content:
        index = tree.page_index(pg)
        page_maps.setdefault(index, tree.page_map(index))[mcid] = link.reference


def line_end_hyphens(document, pdf) -> None:
    """Let text extractors remove automatic hyphens at a line end.

    WeasyPrint draws the hyphenate-character (U+2010) and maps its glyph to U+2010,
    so copy, search and text-to-speech get "Unge‐ politikken". Poppler (pdftotext, and
    the PDF viewers built on it) joins a line that ends in U+002D with the next one,
    as it does for the hyphens of TeX and InDesign files; U+00AD, which ISO 32000-1
    14.8.2.2.3 suggests, is kept by poppler 22 and pypdf alike. The content never
    holds U+2010, so its glyph is only ever a line-end hyphen; a suspended hyphen
    ("Børne- og") is kept with its word by the typesetter, so no real hyphen ends a line
    where poppler would join it.
    """
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and b"/CMapName /Adobe-Identity-UCS def" in obj.stream:
            obj.stream[:] = [line.replace(b"> <2010>", b"> <002d>") if isinstance(line, bytes) else line
                             for line in obj.stream]


UA_XMP = b"""<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" rdf:about="" \
xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"/>
<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" rdf:about="" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Indicates which part of ISO 14289 standard is followed</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
"""


def declare_pdf_ua(document, pdf) -> None:
    """Add pdfuaid:part 1 to the PDF/A metadata, inside WeasyPrint's own rdf:RDF block.

    Validators read one rdf:RDF block; a second one is ignored. PDF/A-2 accepts a
    property of a non-standard schema only with its extension schema description.
    """
    metadata = pdf.objects[int(pdf.catalog["Metadata"].split()[0])]
    parts = metadata.stream
    for i, part in enumerate(parts):
        if isinstance(part, bytes) and b"</rdf:RDF>" in part:
            parts[i] = part.replace(b"</rdf:RDF>", UA_XMP + b"</rdf:RDF>", 1)
            return
    raise ValueError("no rdf:RDF block in the XMP metadata")


SCREEN_STEPS = (pagination_artifacts, merge_fragments, contents_list, figure_boxes, line_end_hyphens,
                declare_pdf_ua)


def finish_screen(document, pdf) -> None:
    """Every structure and metadata repair of a screen file, in order."""
    for step in SCREEN_STEPS:
        step(document, pdf)
