from workflow.roles import Role, roles_of


def roles(request):
    held = roles_of(request.user) if hasattr(request, "user") else frozenset()
    return {"my_roles": sorted(held), "is_supervisor": Role.SUPERVISOR in held}
