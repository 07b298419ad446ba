#include <stdio.h>
#include <stddef.h>
#include <linux/vhost_types.h>
int main(void){
printf("sizeof vhost_iotlb_msg %zu\n", sizeof(struct vhost_iotlb_msg));
printf("offsetof iova %zu size %zu uaddr %zu perm %zu type %zu\n", offsetof(struct vhost_iotlb_msg,iova),offsetof(struct vhost_iotlb_msg,size),offsetof(struct vhost_iotlb_msg,uaddr),offsetof(struct vhost_iotlb_msg,perm),offsetof(struct vhost_iotlb_msg,type));
printf("sizeof vhost_msg %zu iotlb@%zu\n", sizeof(struct vhost_msg), offsetof(struct vhost_msg, iotlb));
printf("sizeof vhost_msg_v2 %zu asid@%zu iotlb@%zu\n", sizeof(struct vhost_msg_v2), offsetof(struct vhost_msg_v2, asid), offsetof(struct vhost_msg_v2, iotlb));
printf("VHOST_ACCESS_RO %d WO %d RW %d\n", VHOST_ACCESS_RO, VHOST_ACCESS_WO, VHOST_ACCESS_RW);
printf("VHOST_IOTLB_MISS %d UPDATE %d INVALIDATE %d ACCESS_FAIL %d BATCH_BEGIN %d BATCH_END %d\n", VHOST_IOTLB_MISS, VHOST_IOTLB_UPDATE, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_ACCESS_FAIL, VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END);
printf("VHOST_IOTLB_MSG %d VHOST_IOTLB_MSG_V2 %d\n", VHOST_IOTLB_MSG, VHOST_IOTLB_MSG_V2);
printf("VHOST_BACKEND_F_IOTLB_MSG_V2 %d IOTLB_BATCH %d IOTLB_ASID %d SUSPEND %d\n", VHOST_BACKEND_F_IOTLB_MSG_V2, VHOST_BACKEND_F_IOTLB_BATCH, VHOST_BACKEND_F_IOTLB_ASID, VHOST_BACKEND_F_SUSPEND);
return 0;}
