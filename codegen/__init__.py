"""Build-time code generator: the Cal.com OpenAPI document in, ``calcom_async/_generated/`` out.

Run as ``python -m codegen`` (``make generate``). The library never imports this package.
"""
