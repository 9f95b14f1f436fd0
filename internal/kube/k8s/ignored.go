package k8s

import (
	"reflect"
	"strings"
)

// ignoredFields are the fields of the Kubernetes API type t that pea does not declare: a
// manifest may hold them (kube play reads past them without a warning), nothing pea does
// depends on them. Words separated by spaces; checked against the API in the tests.
func ignoredFields(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[ObjectMeta]():
		return "generateName selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds ownerReferences finalizers managedFields"
	case reflect.TypeFor[LabelSelector]():
		return "matchExpressions"
	case reflect.TypeFor[Pod](), reflect.TypeFor[Deployment](), reflect.TypeFor[DaemonSet](), reflect.TypeFor[Job](),
		reflect.TypeFor[Service](), reflect.TypeFor[PersistentVolumeClaim]():
		return "status"
	case reflect.TypeFor[ConfigMap]():
		return "immutable"
	case reflect.TypeFor[Secret]():
		return "type immutable"
	case reflect.TypeFor[PodSpec]():
		return "activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken " +
			"nodeName hostIPC imagePullSecrets subdomain affinity schedulerName tolerations priorityClassName " +
			"priority readinessGates runtimeClassName enableServiceLinks preemptionPolicy overhead topologySpreadConstraints " +
			"setHostnameAsFQDN os schedulingGates resourceClaims ephemeralContainers hostnameOverride evictionResponders " +
			"schedulingGroup"
	case reflect.TypeFor[Container]():
		return "resizePolicy restartPolicy restartPolicyRules volumeDevices readinessProbe " +
			"lifecycle terminationMessagePath terminationMessagePolicy stdinOnce"
	case reflect.TypeFor[EnvVarSource]():
		return "resourceFieldRef fileKeyRef"
	case reflect.TypeFor[ObjectFieldSelector]():
		return "apiVersion"
	case reflect.TypeFor[SeccompProfile]():
		return "localhostProfile"
	case reflect.TypeFor[VolumeResourceRequirements]():
		return "limits"
	case reflect.TypeFor[ResourceRequirements]():
		return "requests claims"
	case reflect.TypeFor[PodSecurityContext]():
		return "seLinuxOptions windowsOptions runAsNonRoot supplementalGroups supplementalGroupsPolicy fsGroup " +
			"fsGroupChangePolicy appArmorProfile seLinuxChangePolicy"
	case reflect.TypeFor[SecurityContext]():
		return "seLinuxOptions windowsOptions runAsNonRoot procMount appArmorProfile"
	case reflect.TypeFor[VolumeMount]():
		return "recursiveReadOnly mountPropagation subPathExpr bindMountOptions"
	case reflect.TypeFor[EmptyDirVolumeSource]():
		return "mode"
	case reflect.TypeFor[KeyToPath]():
		return "user"
	case reflect.TypeFor[SecretVolumeSource](), reflect.TypeFor[ConfigMapVolumeSource]():
		return "defaultUser"
	case reflect.TypeFor[Volume]():
		return "gcePersistentDisk awsElasticBlockStore gitRepo nfs iscsi glusterfs rbd flexVolume cinder cephfs flocker " +
			"downwardAPI fc azureFile vsphereVolume quobyte azureDisk photonPersistentDisk projected portworxVolume " +
			"scaleIO storageos csi ephemeral image"
	case reflect.TypeFor[PersistentVolumeClaimSpec]():
		return "selector volumeName storageClassName volumeMode dataSource dataSourceRef volumeAttributesClassName"
	case reflect.TypeFor[ServiceSpec]():
		return "clusterIP clusterIPs externalIPs sessionAffinity loadBalancerIP loadBalancerSourceRanges externalName " +
			"externalTrafficPolicy healthCheckNodePort publishNotReadyAddresses sessionAffinityConfig ipFamilies " +
			"ipFamilyPolicy allocateLoadBalancerNodePorts loadBalancerClass internalTrafficPolicy trafficDistribution"
	case reflect.TypeFor[ServicePort]():
		return "appProtocol"
	case reflect.TypeFor[DeploymentSpec]():
		return "strategy minReadySeconds revisionHistoryLimit paused progressDeadlineSeconds"
	case reflect.TypeFor[DaemonSetSpec]():
		return "updateStrategy minReadySeconds revisionHistoryLimit"
	case reflect.TypeFor[JobSpec]():
		return "parallelism completions activeDeadlineSeconds podFailurePolicy successPolicy backoffLimit " +
			"backoffLimitPerIndex maxFailedIndexes manualSelector ttlSecondsAfterFinished completionMode suspend " +
			"podReplacementPolicy managedBy scheduling"
	}
	return ""
}

// isIgnored says whether name is an undeclared field of the API type t.
func isIgnored(t reflect.Type, name string) bool {
	for _, f := range strings.Fields(ignoredFields(t)) {
		if f == name {
			return true
		}
	}
	return false
}
