# EKS control plane and the small managed node group that runs the controllers; Karpenter provisions the rest.

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2"

  cluster_name    = local.name
  cluster_version = var.kubernetes_version

  # Private endpoint for nodes; the public one only for the listed CIDRs (CI, operators).
  cluster_endpoint_private_access      = true
  cluster_endpoint_public_access       = true
  cluster_endpoint_public_access_cidrs = var.cluster_api_allowed_cidrs

  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = true

  # Kubernetes secrets are envelope-encrypted with a key the module creates.
  create_kms_key = true
  cluster_encryption_config = {
    resources = ["secrets"]
  }

  cluster_addons = {
    coredns                = {}
    eks-pod-identity-agent = { before_compute = true }
    kube-proxy             = {}
    vpc-cni                = { before_compute = true }
  }

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.intra_subnets

  eks_managed_node_groups = {
    system = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.system_node_instance_types
      # Two nodes in two AZs keep Karpenter and CoreDNS up through a node loss.
      min_size     = 2
      max_size     = 3
      desired_size = 2

      labels = {
        "pingvas.ai/node-role" = "system"
      }
    }
  }

  node_security_group_tags = {
    # The one security group Karpenter attaches to the nodes it launches.
    "karpenter.sh/discovery" = local.name
  }

  tags = local.tags
}
