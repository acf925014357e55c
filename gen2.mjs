import fs from 'node:fs';
const ws = fs.createWriteStream('/tmp/jb/dict.json'); ws.write('{');
const r2 = (x) => Math.round(x*100)/100;
for (let e = 0; e < 25000; e++) {
  const boxes = [], scores = [];
  for (let j = 0; j < 100; j++) { const x=Math.random()*500,y=Math.random()*400; boxes.push([r2(x),r2(y),r2(x+Math.random()*200),r2(y+Math.random()*200)]); scores.push(Math.round(Math.random()*1e6)/1e6); }
  ws.write((e? ',':'') + JSON.stringify(String(e)) + ':' + JSON.stringify({boxes, scores}));
}
ws.write('}'); ws.end();
