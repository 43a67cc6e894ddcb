"""Attachment file types that are refused by default: Microsoft's documented default
for Dynamics 365 / Dataverse ("Blocked attachments" under Privacy + Security), and
other types that run code or hide programs. Admins change the list in
Organisation settings; this is what a new organisation starts with."""

from __future__ import annotations

import re
import unicodedata

# Power Platform admin center > Environment > Settings > Product > Privacy + Security >
# "Block these file extensions", default value, in Microsoft's order.
# fmt: off
DYNAMICS_DEFAULT = (
    "ade", "adp", "app", "asa", "ashx", "asmx", "asp", "bas", "bat", "cdx", "cer", "chm",
    "class", "cmd", "com", "config", "cpl", "crt", "csh", "dll", "exe", "fxp", "hlp", "hta",
    "htr", "htw", "ida", "idc", "idq", "inf", "ins", "isp", "its", "jar", "js", "jse", "ksh",
    "lnk", "mad", "maf", "mag", "mam", "maq", "mar", "mas", "mat", "mau", "mav", "maw", "mda",
    "mdb", "mde", "mdt", "mdw", "mdz", "msc", "msh", "msh1", "msh1xml", "msh2", "msh2xml",
    "mshxml", "msi", "msp", "mst", "ops", "pcd", "pif", "prf", "prg", "printer", "pst", "reg",
    "rem", "scf", "scr", "sct", "shb", "shs", "shtm", "shtml", "soap", "stm", "tmp", "url",
    "vb", "vbe", "vbs", "vsmacros", "vss", "vst", "vsw", "ws", "wsc", "wsf", "wsh",
)
# Beyond Microsoft's list: pages a browser would run (Leadline serves files from its
# own origin), Office files with macros, disk images that hide programs from the
# mark-of-the-web, Windows package and shortcut types, and scripts of other shells.
LEADLINE_ADDITIONS = (
    "htm", "html", "xhtml", "xht", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "aspx",
    "php", "jsp",
    "docm", "dotm", "xlsm", "xltm", "xlam", "xla", "xll", "pptm", "potm", "ppam", "ppsm",
    "sldm", "accde",
    "iso", "img", "vhd", "vhdx",
    "appx", "appxbundle", "msix", "msixbundle", "appinstaller", "application", "appref-ms",
    "msu", "gadget", "jnlp", "diagcab", "settingcontent-ms", "library-ms", "search-ms",
    "searchconnector-ms",
    "ps1", "ps1xml", "ps2", "ps2xml", "psc1", "psc2", "psd1", "psm1", "sh", "bash", "py",
    "pyc", "pyw", "pyz",
)
# fmt: on
DEFAULT_BLOCKED_EXTENSIONS = DYNAMICS_DEFAULT + tuple(
    ext for ext in LEADLINE_ADDITIONS if ext not in DYNAMICS_DEFAULT
)
DEFAULT_BLOCKED_TEXT = ";".join(DEFAULT_BLOCKED_EXTENSIONS)


def normalise_extension(ext: str) -> str:
    """How extensions are compared: without dots or spaces, compatibility-folded
    (a full-width 'ｅｘｅ' is 'exe') and without case."""
    return unicodedata.normalize("NFKC", ext).strip().strip(".").casefold()


def parse_extensions(text: str) -> frozenset[str]:
    """The extensions of a list separated (as Dynamics does) by semicolons, or by
    commas, spaces or new lines; a leading dot or '*.' is allowed."""
    items = (normalise_extension(part.lstrip("*")) for part in re.split(r"[;,\s]+", text or ""))
    return frozenset(item for item in items if item)
