"""Schemathesis hooks for the idunox reference server (loaded by .ci/schemathesis.sh).

openapi.json marks allow-list entries `format: cidr`: a network in CIDR notation without host
bits set, or a bare address. JSON Schema has no such format, so without this hook schemathesis
would send arbitrary strings as "valid" entries.
"""

import ipaddress

import schemathesis
from hypothesis import strategies as st


def _network(version: int, bits: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda addr, prefix: str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False)),
        st.ip_addresses(v=version),
        st.integers(min_value=0, max_value=bits),
    )


schemathesis.openapi.format(
    "cidr",
    st.one_of(
        _network(4, 32),
        _network(6, 128),
        st.ip_addresses().map(str),
    ),
)
