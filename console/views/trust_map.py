"""Console: the trust map — who may assume this account's roles, drawn as a server-rendered SVG.

Left column: the principals the roles' trust policies name, grouped by account (an account box
stands for the account root, i.e. every RAM user and role session of it), plus services. Right
column: the account's roles. An arrow means "trusted to assume"; arrows that cross accounts are
drawn dashed in another colour. No JavaScript: the layout is computed here, the template only
draws it, and every node of this account links to its details page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.http import ConsoleRequest, current_account, require_account_action
from iam.models import Account, Role
from iam.policy import PolicyError
from iam.who_can_assume import trusted_principals

LEFT_X = 20
LEFT_WIDTH = 340
RIGHT_X = 640
RIGHT_WIDTH = 240
ROW = 30
HEADER = 30
GAP = 18
PADDING = 10


@dataclass
class Node:
    key: str
    label: str
    kind: str  # "account", "user", "role", "service", "target"
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = ROW - 6
    href: str = ""
    note: str = ""

    @property
    def anchor_right(self) -> tuple[int, int]:
        return self.x + self.width, self.y + min(self.height, HEADER) // 2

    @property
    def anchor_left(self) -> tuple[int, int]:
        return self.x, self.y + self.height // 2

    @property
    def text_x(self) -> int:
        return self.x + PADDING

    @property
    def text_y(self) -> int:
        return self.y + 16


@dataclass
class AccountGroup:
    node: Node
    members: list[Node] = field(default_factory=list)


@dataclass
class Edge:
    source: Node
    target: Node
    cross_account: bool

    @property
    def path(self) -> str:
        (x1, y1), (x2, y2) = self.source.anchor_right, self.target.anchor_left
        middle = (x1 + x2) // 2
        return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2 - 6},{y2}"


@dataclass
class TrustMap:
    groups: list[AccountGroup]
    services: list[Node]
    roles: list[Node]
    edges: list[Edge]
    width: int = RIGHT_X + RIGHT_WIDTH + 20
    height: int = 0


def account_label(account_id: str, hosted: dict[str, Account], home: Account) -> tuple[str, str]:
    if account_id == "*":
        return _("any account"), _("every account")
    if account_id == home.pk:
        return _("%(alias)s (this account)") % {"alias": home.alias}, account_id
    if account_id in hosted:
        return f"{hosted[account_id].alias}", account_id
    return _("account %(id)s") % {"id": account_id}, _("not hosted here")


class MapBuilder:
    """Collects nodes while walking the trust policies, then lays them out in two columns."""

    def __init__(self, home: Account) -> None:
        self.home = home
        self.groups: dict[str, AccountGroup] = {}
        self.services: dict[str, Node] = {}
        self.edges: list[Edge] = []

    def group(self, account_id: str) -> AccountGroup:
        if account_id not in self.groups:
            self.groups[account_id] = AccountGroup(Node(f"account:{account_id}", "", "account"))
        return self.groups[account_id]

    def member(self, account_id: str, kind: str, name: str) -> Node:
        group = self.group(account_id)
        key = f"{kind}:{account_id}:{name}"
        for node in group.members:
            if node.key == key:
                return node
        node = Node(key, name, kind)
        if account_id == self.home.pk:
            route = "console:user_detail" if kind == "user" else "console:role_detail"
            node.href = reverse(route, args=[name])
        group.members.append(node)
        return node

    def service(self, name: str) -> Node:
        if name not in self.services:
            self.services[name] = Node(f"service:{name}", name, "service", note=_("service"))
        return self.services[name]

    def add_role(self, role: Role, target: Node) -> None:
        try:
            trusted = trusted_principals(role.trust_policy)
        except PolicyError:
            return
        for account_id in sorted(trusted.accounts):
            self.edge(self.group(account_id).node, target, account_id)
        for account_id, name in sorted(trusted.users):
            self.edge(self.member(account_id, "user", name), target, account_id)
        for account_id, name in sorted(trusted.roles):
            self.edge(self.member(account_id, "role", name), target, account_id)
        for name in sorted(trusted.services):
            self.edges.append(Edge(self.service(name), target, False))

    def edge(self, source: Node, target: Node, account_id: str) -> None:
        self.edges.append(Edge(source, target, account_id != self.home.pk))

    def layout(self, roles: list[Node]) -> TrustMap:
        hosted = Account.objects.in_bulk([key for key in self.groups if key != "*"])
        ordered = sorted(self.groups, key=lambda key: (key != self.home.pk, key))
        y = GAP
        groups = []
        for account_id in ordered:
            group = self.groups[account_id]
            group.node.label, group.node.note = account_label(account_id, hosted, self.home)
            group.node.x, group.node.y, group.node.width = LEFT_X, y, LEFT_WIDTH
            member_y = y + HEADER
            for member in group.members:
                member.x, member.y = LEFT_X + 16, member_y
                member.width = LEFT_WIDTH - 32
                member_y += ROW
            group.node.height = member_y - y + (6 if group.members else 0)
            y += group.node.height + GAP
            groups.append(group)
        services = list(self.services.values())
        for node in services:
            node.x, node.y, node.width = LEFT_X, y, LEFT_WIDTH
            y += ROW + 6
        right_y = GAP
        for node in roles:
            node.x, node.y, node.width, node.height = RIGHT_X, right_y, RIGHT_WIDTH, 30
            right_y += 30 + GAP
        return TrustMap(groups, services, roles, self.edges, height=max(y, right_y) + GAP)


def build_trust_map(account: Account, roles: list[Role]) -> TrustMap:
    builder = MapBuilder(account)
    targets = []
    for role in roles:
        target = Node(f"target:{role.name}", role.name, "target")
        target.href = reverse("console:role_detail", args=[role.name])
        builder.add_role(role, target)
        targets.append(target)
    return builder.layout(targets)


@require_GET
def trust_map(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListRoles", "role")
    account = current_account(request)
    roles = Role.objects.filter(account=account).order_by("name")
    selected = request.GET.get("role", "").strip()
    if selected:
        roles = roles.filter(name__iexact=selected)
    trust_graph = build_trust_map(account, list(roles[:200]))
    return render(
        request,
        "console/trust_map/page.html",
        {"map": trust_graph, "selected": selected, "account": account},
    )


urlpatterns = [
    path("trust-map/", trust_map, name="trust_map"),
]
