# Argo CD bootstrap: install the chart once, then the root Application; from there Argo CD manages itself and
# everything in k8s/ (k8s/infra/argo-cd). Chart, release name and values are the ones its own Application uses,
# so Argo CD adopts this release instead of fighting it.

resource "helm_release" "argocd" {
  name             = "argocd"
  namespace        = "argocd"
  create_namespace = true
  repository       = "https://argoproj.github.io/argo-helm"
  chart            = "argo-cd"
  # Keep equal to targetRevision in k8s/infra/argo-cd/application-argo-cd.yaml.
  version = "9.1.0"

  values = [file("${path.module}/../../k8s/infra/argo-cd/values.yaml")]

  depends_on = [module.eks]
}

resource "helm_release" "argocd_root" {
  name       = "argocd-root"
  namespace  = "argocd"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argocd-apps"
  version    = "2.0.2"

  # The root Application as written in k8s/infra/argo-cd/application-root.yaml, wrapped for the argocd-apps chart.
  values = [
    yamlencode({
      applications = {
        (local.root_application.metadata.name) = merge(local.root_application.spec, {
          namespace  = local.root_application.metadata.namespace
          finalizers = local.root_application.metadata.finalizers
        })
      }
    })
  ]

  depends_on = [helm_release.argocd]
}
