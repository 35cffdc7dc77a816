"""What the three national hotline platforms (12315, 12333, 12328) share: a signed JSON interconnect.

Each platform is its own connector kind in its own folder (connectors/market12315, connectors/hrss12333,
connectors/transport12328); what differs between them is a `Dialect`: paths, parameter and field names,
codes, envelopes. The signing, paging and error handling are here, once.
"""
