"""Changes to the cluster: each is a :class:`~llmd_console.actions.plan.Plan` first (what will
change, the equivalent command, its risk, per-object diffs, chips and cost before and after,
warnings), then a confirmation, then the change, followed until the cluster says it is done,
then an audit record. Nothing here imports Textual.

How a UI uses it (every function is async unless said; ``kube`` is a ``KubeClient``,
``gke`` a :class:`~llmd_console.gke.NodePoolClient`):

1. Offer an action only if ``safety.permitted(kube, action_id, namespace)`` says ``allowed``
   (a SelfSubjectAccessReview per verb and resource in ``safety.NEEDS``); otherwise show
   its ``reason``.
2. Build the plan (the preview): ``deploy_plan.plan_deploy(kube, config, facts)``,
   ``restart.plan_restart(ns, name, replicas, restart.surge_warnings(deployment, facts))``,
   ``pods.delete_pod_plan(pod)``, ``scale.plan_replicas(scale.read_scale(...), n, facts, prices)``
   with ``n = scale.parse_replicas(text, config.deploy.max_replicas)`` (``BadInput`` says why
   not), ``nodepool.plan_pool(config, gke.get_pool(name), count, facts)``,
   ``nodepool.plan_scale_to_zero`` / ``plan_scale_back``, ``undeploy.plan_undeploy(kube, config, ns)``,
   ``rollback.plan_rollback(*rollback.read_rollback(kube, ns, name))``. ``facts.read_facts(kube)``
   reads the nodes and pods once for the chips and warnings.
3. Show ``plan.title``, ``changes``, ``warnings``, ``diffs`` (each ``ObjectDiff``: label,
   change, unified ``lines`` or the server's ``error``), ``cost.text()``, ``command_line`` (and
   ``steps``). Confirm by ``plan.risk``: ROUTINE is y/n, DISRUPTIVE needs ``plan.confirm_word``
   typed (the namespace for undeploy, the pool for node-pool changes).
4. Run it with ``runner.carry_out(plan, execute, confirm=..., audit=AuditLog(), context=...,
   read_only=..., guard=one_shared_OneAtATime)``; ``execute`` is the matching coroutine
   (``deploy.deploy(kube, config, progress)``, ``restart.restart``, ``restart.delete_and_replace``,
   ``scale.scale_replicas``, ``nodepool.resize_pool``, ``nodepool.scale_to_zero`` /
   ``scale_back``, ``undeploy.undeploy``, ``rollback.rollback``), which returns only when the
   cluster shows the change done (new pods Ready, nodes present, first inference answered)
   or raises saying what is still wrong (``follow.NotReady``, ``steps.StepFailed``). Progress
   of a deploy arrives as ``steps.Progress`` through the ``progress`` callback. The result's
   message is already explained (``safety.explain``); every outcome is audited.
"""
