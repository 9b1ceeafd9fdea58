"""The wire between the hub and its desks: the frame format (`kvmsg`, `envelope`), the
hub's sockets (`hub_sockets`), the desk's replica client (`replica`) and command client
(`command_client`). Imports only the standard library, pyzmq and `models`.
"""
