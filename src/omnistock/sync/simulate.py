"""`omnistock simulate`: the platform simulator on loopback with ready-made shops, and for each one the
settings an omnistock channel needs to connect to it (for demos, trials and benchmarks)."""

from __future__ import annotations

import json
import secrets
import shlex
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the simulator (a whole FastAPI app) is loaded only when the command runs
    from omnistock.channels.simulator import Simulator


@dataclass(frozen=True)
class ShopPlan:
    """How omnistock reaches one platform in the simulator, and how that platform names its items."""

    endpoint_setting: str
    path: str                          # after {simulator}/{platform}/{shop code}
    credentials: Callable[[str], dict[str, str]]
    item: Callable[[int], str]         # the platform's id of item n, as a listing's external_id
    fixed: tuple[tuple[str, str], ...] = ()  # settings that are the same for every shop


def _token() -> str:
    return secrets.token_hex(8)


PLANS: dict[str, ShopPlan] = {
    "shopify": ShopPlan("shop_url", "", lambda c: {"access_token": f"shpat_{_token()}", "webhook_secret": _token()},
                        lambda n: f"{40001 + n}", (("location_id", "1"),)),
    "woocommerce": ShopPlan("base_url", "", lambda c: {"consumer_key": f"ck_{_token()}",
                                                       "consumer_secret": f"cs_{_token()}",
                                                       "webhook_secret": _token()},
                            lambda n: f"{101 + n}/{201 + n}"),
    "taobao": ShopPlan("gateway_url", "/router/rest", lambda c: {"app_key": f"{c}-key", "app_secret": _token(),
                                                                  "session": _token()},
                       lambda n: f"{5001 + n}/{6001 + n}"),
    "jd": ShopPlan("gateway_url", "/routerjson", lambda c: {"app_key": f"{c}-key", "app_secret": _token(),
                                                             "access_token": _token()},
                   lambda n: f"{7001 + n}"),
    "pinduoduo": ShopPlan("gateway_url", "/api/router", lambda c: {"client_id": f"{c}-id",
                                                                    "client_secret": _token(),
                                                                    "access_token": _token()},
                          lambda n: f"{8001 + n}/{9001 + n}"),
    "douyin": ShopPlan("gateway_url", "", lambda c: {"app_key": f"{c}-key", "app_secret": _token(),
                                                      "access_token": _token()},
                       lambda n: f"{3001 + n}/{4001 + n}"),
}


@dataclass(frozen=True)
class SimulatedShop:
    code: str
    platform: str
    settings: dict[str, str]
    items: list[str]

    def add_command(self) -> str:
        parts = ["omnistock", "channel", "add", self.code, "--kind", self.platform]
        for key, value in self.settings.items():
            parts += ["--setting", f"{key}={value}"]
        return shlex.join(parts)


def open_shops(sim: Simulator, shops: int, items: int, omnistock_url: str | None) -> list[SimulatedShop]:
    """`shops` shops per platform the simulator plays, each showing `items` items (SIM-001...) at 0."""
    from omnistock.channels.simulator import SimListing, WebhookConfig
    from omnistock.channels.simulator.app import available_platforms

    out = []
    for platform in available_platforms():
        plan = PLANS.get(platform)
        if plan is None:
            continue  # a platform the simulator learnt after this command: nothing known to connect it
        for n in range(1, shops + 1):
            code = f"sim-{platform}-{n}"
            credentials = plan.credentials(code)
            webhook = WebhookConfig(url=f"{omnistock_url.rstrip('/')}/webhooks/{code}") if omnistock_url else None
            shop = sim.registry.add_shop(code, platform, {**credentials, **dict(plan.fixed)}, webhook=webhook)
            ids = [plan.item(i) for i in range(items)]
            for i, external_id in enumerate(ids):
                shop.upsert_listing(SimListing(external_id, 0, external_sku=f"SIM-{i + 1:03d}",
                                               title=f"Simulated item {i + 1}"))
            settings = {**credentials, plan.endpoint_setting: f"{sim.url}/{platform}/{code}{plan.path}",
                        **dict(plan.fixed)}
            out.append(SimulatedShop(code, platform, settings, ids))
    return out


def simulate(port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8900,
             shops: Annotated[int, typer.Option(help="Shops per platform.", min=1, max=50)] = 1,
             items: Annotated[int, typer.Option(help="Items each shop shows.", min=0, max=1000)] = 3,
             omnistock_url: Annotated[str, typer.Option(
                 help="Where shops send order webhooks (/webhooks/<shop code> is added).")]
             = "http://127.0.0.1:8000",
             webhooks: Annotated[bool, typer.Option(help="Send order webhooks at all.")] = True,
             seed: Annotated[int | None, typer.Option(help="Seed for reproducible runs.")] = None) -> None:
    """Play every platform on loopback until Ctrl+C; prints each shop and how to connect a channel to it."""
    from omnistock import cli as core
    from omnistock.channels.simulator import SimRegistry, Simulator

    sim = Simulator(SimRegistry(seed=seed), host="127.0.0.1", port=port)
    try:
        sim.start()
    except (OSError, RuntimeError) as exc:
        raise core.fail(f"the simulator could not listen on 127.0.0.1:{port}: {exc}") from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        opened = open_shops(sim, shops, items, omnistock_url if webhooks else None)
        _announce(core, sim, opened, omnistock_url if webhooks else None)
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    core.err.print("simulator stopped")


def _announce(core: Any, sim: Simulator, opened: list[SimulatedShop], omnistock_url: str | None) -> None:
    core.out.print(f"[bold]platform simulator[/bold] at {sim.url}  (control API: {sim.url}/_sim/docs)")
    if omnistock_url:
        core.out.print(f"order webhooks go to {omnistock_url.rstrip('/')}/webhooks/<shop code>")
    for shop in opened:
        core.out.print(f"\n[bold]{shop.code}[/bold] ({shop.platform}) items: {', '.join(shop.items) or '-'}")
        core.out.print(f"settings: {json.dumps(shop.settings, ensure_ascii=False)}", markup=False, highlight=False)
        core.out.print(shop.add_command(), markup=False, highlight=False)
    core.out.print("\nready; stop with Ctrl+C", highlight=False)
