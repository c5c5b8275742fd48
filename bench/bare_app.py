"""Baseline: the cheapest Starlette endpoint that reads the same webhook bodies."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def receive(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"accepted": True, "bytes": len(body)})


app = Starlette(routes=[Route("/api/webhooks/saleor", receive, methods=["POST"])])
