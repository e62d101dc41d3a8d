"""Operator networks (串并案): the list (`/networks`), one network with its graph drawn on the server
(`/networks/{id}`), and their JSON twins (`/api/networks`, `/api/networks/{id}`).

Reading is `cases.networks`; this adds the drawing: sites on an outer circle, the identifiers that tie
them on an inner one, a line per (site, identifier). The SVG is built in the template from coordinates
computed here, so every label goes through Jinja2's autoescape (no string-built markup, no script).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from cases.networks import NetworkDetail, list_networks, network_detail
from web.app import envelope, page
from web.deps import DbSession, Monitor

router = APIRouter()
SIZE = 640  # the drawing is SIZE x SIZE user units; the page scales it to its width


@dataclass
class Node:
    label: str
    x: float
    y: float
    kind: str  # "site", or the identifier's kind


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[float, float, float, float, float]] = field(default_factory=list)  # x1, y1, x2, y2, strength


def layout(detail: NetworkDetail) -> Graph:
    graph = Graph()
    centre = SIZE / 2
    sites: dict[str, Node] = {}
    for i, domain in enumerate(detail.network.sites):
        angle = 2 * math.pi * i / max(len(detail.network.sites), 1) - math.pi / 2
        sites[domain] = Node(domain, centre + 250 * math.cos(angle), centre + 250 * math.sin(angle), "site")
    graph.nodes += sites.values()
    for i, link in enumerate(detail.links):
        angle = 2 * math.pi * (i + 0.5) / max(len(detail.links), 1) - math.pi / 2
        radius = 0 if len(detail.links) == 1 else 110
        node = Node(f"{link['kind']}:{link['value']}", centre + radius * math.cos(angle),
                    centre + radius * math.sin(angle), link["kind"])
        graph.nodes.append(node)
        graph.edges += [(sites[s].x, sites[s].y, node.x, node.y, link["strength"]) for s in link["sites"] if s in sites]
    return graph


@router.get("/networks")
def networks_html(request: Request, db: DbSession, user: Monitor) -> Response:
    return page(request, "networks.html", {"networks": list_networks(db)}, user=user)


@router.get("/api/networks")
def networks_json(db: DbSession, user: Monitor) -> Response:
    return envelope([network.to_json() for network in list_networks(db)])


def _detail(db: DbSession, network_id: int) -> NetworkDetail:
    try:
        return network_detail(db, network_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/networks/{network_id}")
def network_html(request: Request, db: DbSession, user: Monitor, network_id: int) -> Response:
    detail = _detail(db, network_id)
    return page(request, "network.html", {"detail": detail, "graph": layout(detail), "size": SIZE}, user=user)


@router.get("/api/networks/{network_id}")
def network_json(db: DbSession, user: Monitor, network_id: int) -> Response:
    return envelope(_detail(db, network_id).to_json())
