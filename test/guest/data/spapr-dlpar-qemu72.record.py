import subprocess, socket, json, time, sys, os
sock='qmp.sock'
if os.path.exists(sock): os.unlink(sock)
p=subprocess.Popen(['qemu-system-ppc64','-M','pseries','-nodefaults','-display','none','-qtest','stdio','-qmp',f'unix:{sock},server=on,wait=off','-machine','accel=tcg'],stdin=subprocess.PIPE,stdout=subprocess.PIPE,stderr=subprocess.PIPE,text=True)
def qt(cmd):
    p.stdin.write(cmd+'\n'); p.stdin.flush()
    while True:
        l=p.stdout.readline()
        if l.startswith('OK') or l.startswith('FAIL') or l.startswith('ERR'): return l.strip()
time.sleep(0.5)
s=socket.socket(socket.AF_UNIX); s.connect(sock); f=s.makefile('rw')
f.readline()
def qmp(c):
    f.write(json.dumps(c)+'\n'); f.flush()
    while True:
        r=json.loads(f.readline())
        if 'return' in r or 'error' in r: return r
        print('EVENT',r)
print(qmp({'execute':'qmp_capabilities'}))

print(qmp({'execute':'device_add','arguments':{'driver':'pci-testdev','id':'t1','bus':'pci.0','addr':'3'}}))
OUT={'cc':[]}
ARGS=0x100000; RETS=0x100100; BUF=0x200000
def rtas(name, args, nret):
    for i,a in enumerate(args): qt(f'writel 0x{ARGS+4*i:x} 0x{a&0xffffffff:x}')
    r=qt(f'rtas {name} {len(args)} 0x{ARGS:x} {nret} 0x{RETS:x}')
    rets=[]
    for i in range(nret):
        v=int(qt(f'readl 0x{RETS+4*i:x}').split()[1],16)
        rets.append(v-(1<<32) if v&0x80000000 else v)
    return rets
r=rtas('check-exception',[0x500,0x1000,0x40000000,0,BUF,2048],1)
print('check-exception',r)
b=qt(f'read 0x{BUF:x} 128')
print(b); OUT['addLog']=b.split()[1][2:2+2*128]
print('again',rtas('check-exception',[0x500,0x1000,0x40000000,0,BUF,2048],1))
print('unisolate',rtas('set-indicator',[9001,0x40000018,1],1))
WA=0x300000
qt(f'writel 0x{WA:x} 0x40000018')
for step in range(40):
    r=rtas('ibm,configure-connector',[WA,0],1)[0]
    wa=qt(f'read 0x{WA:x} 256')
    print('CC',r); OUT['cc'].append({'status':r,'wa':wa.split()[1][2:2+2*160]})
    if r<=0: break
print(qmp({'execute':'device_del','arguments':{'id':'t1'}}))
print('rm',rtas('check-exception',[0x500,0x1000,0x40000000,0,BUF,2048],1))
OUT['removeLog']=qt(f'read 0x{BUF:x} 128').split()[1][2:]
p.kill()
json.dump(OUT,open('spapr-dlpar-qemu72.json.new','w'),indent=1)
